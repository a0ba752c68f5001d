"""Loading 1,000,000 predictions through the local Redshift Data API, against DuckDB directly.

The Data API path is the one inference runs take: 20 CSV parts of 50,000 rows
(the Assemble step's layout: item, label, value, probabilities) in the emulated
S3, one BatchExecuteStatement (COPY by manifest into staging,
delete the run's rows, insert), polled with DescribeStatement. The direct path
loads the same files from local disk into a fresh DuckDB with one INSERT.

    .venv/bin/python benchmarks/warehouse_load.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.inference.warehouse_sql import LoadRequest, PredictionsTable, create_table_sqls, load_sqls  # noqa: E402
from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from mlrelay.warehouse_client import connection_from, run_statement  # noqa: E402

PARTS = 20
LABELS = np.array(["MAILER", "BAG", "BOX", "SHIPS_IN_OWN_CONTAINER"])


def write_parts(directory: Path, rows: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths, per_part = [], rows // PARTS
    for part in range(PARTS):
        labels = LABELS[rng.integers(0, 4, per_part)]
        probability = np.round(rng.uniform(0.25, 1.0, per_part), 4)
        lines = [
            f'I{part:02d}{i:07d},{label},,"{{""{label}"": {p}}}"\n' for i, (label, p) in enumerate(zip(labels, probability, strict=True))
        ]
        path = directory / f"part-{part:05d}.csv"
        path.write_text("".join(lines))
        paths.append(path)
    return paths


def load_directly(target: PredictionsTable, paths: list[Path], model_name: str, run_id: str) -> tuple[float, int]:
    """Assembled prediction files (item, label, value, probabilities) into a fresh DuckDB with one INSERT:
    (seconds, rows). The baseline the Data API path is compared with."""
    direct = duckdb.connect()
    for sql in create_table_sqls(target):
        direct.execute(sql)
    started = time.perf_counter()
    direct.execute(
        f"INSERT INTO {target.qualified} (item_id, predicted_label, predicted_value, probabilities, model_name, model_version, run_id, "
        "mode, predicted_at) SELECT column0, column1, CAST(column2 AS DOUBLE), column3, ?, 1, ?, 'monthly', "
        "TIMESTAMP '2026-12-01 06:00:00' FROM read_csv(?, header=false, all_varchar=true)",
        [model_name, run_id, [str(p) for p in paths]],
    )
    seconds = time.perf_counter() - started
    return seconds, direct.execute(f"SELECT COUNT(*) FROM {target.qualified}").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    print(f"writing {args.rows:,} predictions in {PARTS} CSV parts…", flush=True)
    paths = write_parts(scratch, args.rows)
    rows = (args.rows // PARTS) * PARTS

    with EmbeddedStack(log_dir=scratch / "logs") as stack:
        s3, data = stack.client("s3"), stack.client("redshift-data")
        bucket = stack.info.outputs["ArtifactBucketName"]
        entries = []
        for path in paths:
            s3.upload_file(str(path), bucket, f"bench/{path.name}")
            entries.append({"url": f"s3://{bucket}/bench/{path.name}", "mandatory": True})
        s3.put_object(Bucket=bucket, Key="bench/manifest.json", Body=json.dumps({"entries": entries}).encode())
        connection = connection_from(stack.info.outputs)
        target = PredictionsTable(*stack.info.outputs["PredictionsTableName"].split("."))
        run_statement(data, connection, sqls=create_table_sqls(target))
        request = LoadRequest(
            run_id="bench-run", model_name="packaging-type", model_version=1, mode="monthly",
            predicted_at="2026-12-01 06:00:00", manifest_uri=f"s3://{bucket}/bench/manifest.json",
            iam_role_arn="arn:aws:iam::123456789012:role/mlrelay-dev-redshift-copy",
        )
        started = time.perf_counter()
        statement = run_statement(data, connection, sqls=load_sqls(target, request), timeout=1800)
        api_seconds = time.perf_counter() - started
        for part in statement.get("SubStatements", []):
            print(f"  {part.get('Duration', 0) / 1e9:6.2f}s  {part['QueryString'][:70]}")
        loaded = stack.warehouse.query(f"SELECT COUNT(*) FROM {target.qualified}")[0][0]

    direct_seconds, direct_loaded = load_directly(target, paths, "packaging-type", "bench-run")

    if loaded != rows or direct_loaded != rows:
        sys.exit(f"row counts differ: {loaded:,} through the Data API, {direct_loaded:,} direct, {rows:,} written")
    api_rate, direct_rate = rows / api_seconds, rows / direct_seconds
    print(f"local Data API (S3 ▸ COPY ▸ staging ▸ insert): {rows:,} rows in {api_seconds:.2f}s = {api_rate:,.0f} rows/s")
    print(f"direct DuckDB load of the same files:           {rows:,} rows in {direct_seconds:.2f}s = {direct_rate:,.0f} rows/s")
    print(f"ratio: the Data API path runs at {api_rate / direct_rate:.2f}x the direct load's rate")


if __name__ == "__main__":
    main()
