"""`mlrelay monitor show RUN`: an inference run's checks against its model's training baseline."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

app = typer.Typer(help="Data-quality, drift and attribution checks of inference runs (Model Monitor's formats).",
                  no_args_is_help=True)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
CHECK_NAMES = {  # Model Monitor's constraint_check_type, short enough for a terminal's table
    "baseline_drift_check": "drift", "categorical_values_check": "categories", "data_type_check": "type",
    "completeness_check": "completeness", "missing_column_check": "missing", "extra_column_check": "extra",
    "attribution_ndcg": "attribution",
}


@app.command()
def show(
    run_id: str = typer.Argument(..., help="An inference run id (`mlrelay runs list` shows them)."),
    save: Path | None = typer.Option(
        None, "--save", help="Where to save the HTML report (default: ./monitoring-RUN.html); - to skip it.",
    ),
) -> None:
    """The run's drift table and violations, and its HTML report saved locally (distributions, drift, SHAP ranks)."""
    from rich.table import Table

    from chalicelib.shared.pipeline_runs import run_prefix
    from mlrelay.runs import RunNotFoundError, run_model

    info, client = connect()
    try:
        model_name = run_model(client("stepfunctions"), info.state_machines, run_id)
    except RunNotFoundError as err:
        fail(str(err))
    s3, bucket, prefix = client("s3"), info.outputs["ConfigBucketName"], f"{run_prefix(model_name, run_id)}/monitoring"
    summary = json.loads(_read(s3, bucket, f"{prefix}/monitoring.json", run_id))
    if summary.get("baseline") == "missing":
        console.print(f"{run_id}: not checked: model version v{summary.get('model_version')} has no monitoring baseline "
                      "(it was trained before mlrelay kept one); retrain it to get one")
        return
    ndcg = summary.get("ndcg")
    console.print(
        f"[bold]{summary['model_name']} v{summary['model_version']}[/], {summary['mode']} run {run_id}: "
        f"{summary['rows']:,} items against a baseline of {summary['baseline_rows']:,}; "
        f"{summary['violations']} violation(s), {summary['drifted_count']} feature(s) drifted"
        + (f"; SHAP ranking NDCG {ndcg:.3f} (alert below {summary['ndcg_threshold']:g})" if ndcg is not None else "")
    )
    table = Table(box=None, padding=(0, 1))
    table.add_column("feature", overflow="fold")
    for column in ("check", "test", "value", "threshold", "verdict"):
        table.add_column(column, no_wrap=True)
    rows = sorted(_rows(s3, bucket, prefix, run_id), key=lambda r: (r["violated"] != "1", r["feature"]))
    for row in rows:
        value = f"p={_number(row['p_value'])}" if row["p_value"] else _number(row["statistic"])
        table.add_row(row["feature"], CHECK_NAMES.get(row["check_type"], row["check_type"]), row["method"], value,
                      _number(row["threshold"]), "[red]violated[/]" if row["violated"] == "1" else "ok")
    console.print(table)
    for row in rows:
        if row["description"]:
            console.print(f"{row['feature']}: {row['description']}", highlight=False)
    top = summary.get("top_features", {})
    if top.get("training"):
        console.print(f"top SHAP features: training {', '.join(top['training'])}; now {', '.join(top.get('now', []))}")
    if str(save) == "-":
        return
    target = save or Path(f"monitoring-{run_id}.html")
    target.write_bytes(_read(s3, bucket, f"{prefix}/report.html", run_id))
    console.print(f"report: {target} (from {summary['report_uri']})")


def _rows(s3: Any, bucket: str, prefix: str, run_id: str) -> list[dict[str, str]]:
    from chalicelib.inference.warehouse_sql import MONITORING_FILE_COLUMNS  # the columns of rows.csv, as the load reads them

    text = _read(s3, bucket, f"{prefix}/rows.csv", run_id).decode()
    return [dict(zip(MONITORING_FILE_COLUMNS, row, strict=True)) for row in csv.reader(io.StringIO(text)) if row]


def _read(s3: Any, bucket: str, key: str, run_id: str) -> bytes:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_DOCUMENT_BYTES)
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
            fail(f"no monitoring results for {run_id} (s3://{bucket}/{key}): is it an inference run whose pipeline finished? "
                 "`mlrelay runs list` shows the runs")
        raise


def _number(text: str) -> str:
    return f"{float(text):.4g}" if text else ""
