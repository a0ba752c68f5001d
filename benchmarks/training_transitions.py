"""State transitions of a training run do not grow with training time (no polling loop).

Trains the same config twice on the embedded stack, once quick and once
about ten times longer (more trees on more rows), and prints for each the
run's duration, its state transitions and its history events.

    .venv/bin/python benchmarks/training_transitions.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.shared.naming import training_run_id  # noqa: E402
from mlrelay.demo.checks import finished_run  # noqa: E402
from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from mlrelay.synthetic import synthesize  # noqa: E402

CASES = {"quick": (1_000, 10), "long": (8_000, 400)}  # rows, trees


def main() -> None:
    config = json.loads((ROOT / "examples" / "configs" / "packaging-type.json").read_text())
    with EmbeddedStack(log_dir=Path(tempfile.mkdtemp())) as stack:
        s3, sfn = stack.client("s3"), stack.client("stepfunctions")
        s3.create_bucket(Bucket="mlrelay-demo-data")
        bucket = stack.info.outputs["ConfigBucketName"]
        print(f"{'run':<6} {'rows':>6} {'trees':>6} {'duration':>9} {'transitions':>12} {'history events':>15}")
        for name, (rows, trees) in CASES.items():
            s3.put_object(Bucket="mlrelay-demo-data", Key=f"bench/{name}.csv", Body=synthesize(rows, seed=7).to_csv(index=False).encode())
            config["model_name"] = f"bench-{name}"
            config["data"]["uri"] = f"s3://mlrelay-demo-data/bench/{name}.csv"
            config["model"]["hyperparameters"]["n_estimators"] = trees
            key = f"configs/train/bench-{name}.json"
            put = s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(config).encode())
            run_id = training_run_id(bucket, key, put.get("VersionId"), put["ETag"])
            detail = finished_run(sfn, stack.info.state_machines, run_id, timeout_seconds=600)
            if detail is None or detail.summary.status != "SUCCEEDED":
                sys.exit(f"{name}: the run did not succeed ({detail.summary.status if detail else 'no run'})")
            events = sfn.get_execution_history(executionArn=detail.summary.execution_arn, maxResults=1000)["events"]
            seconds = (detail.summary.stopped - detail.summary.started).total_seconds()
            print(f"{name:<6} {rows:>6} {trees:>6} {seconds:>8.1f}s {len(detail.steps):>12} {len(events):>15}")


if __name__ == "__main__":
    main()
