"""A model family of 10 and of 100 segments on the embedded stack: wall time, and state transitions per segment.

Each segment trains as a child execution of the training workflow, so the
family run's own history grows by a fixed number of events per segment (the
Map iteration and its startExecution.sync task), far from the 25,000-event
limit of one execution; each child has a history of its own. Prints, per
family size, the wall time, the family execution's history events and
transitions (state entries), both per segment, and the children's transitions
per segment.

    .venv/bin/python benchmarks/segments_scale.py [--sizes 10,100] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.shared.naming import training_run_id  # noqa: E402
from mlrelay.demo.checks import finished_run  # noqa: E402
from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from mlrelay.runs import history  # noqa: E402
from mlrelay.synthetic import synthesize  # noqa: E402

ROWS_PER_SEGMENT = 200
HISTORY_LIMIT = 25_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100", help="family sizes to run, comma-separated")
    parser.add_argument("--concurrency", type=int, default=10, help="segments.max_concurrency")
    args = parser.parse_args()
    config = json.loads((ROOT / "examples" / "configs" / "packaging-by-country.json").read_text())
    config.pop("serving", None)  # training at scale: the endpoint deploys are not what is measured
    config["model"]["hyperparameters"] = {"n_estimators": 20, "max_depth": 2}
    config["inference"] = {"daily": False, "monthly": False}
    with EmbeddedStack(log_dir=Path(tempfile.mkdtemp())) as stack:
        s3, sfn = stack.client("s3"), stack.client("stepfunctions")
        s3.create_bucket(Bucket="mlrelay-demo-data")
        bucket = stack.info.outputs["ConfigBucketName"]
        print(f"{'segments':>8} {'wall':>8} {'per segment':>12} {'family events':>14} {'per segment':>12} "
              f"{'family transitions':>19} {'per segment':>12} {'child transitions':>18}")
        for size in (int(s) for s in args.sizes.split(",")):
            table = pd.concat([synthesize(ROWS_PER_SEGMENT, seed=100 + i).assign(country=f"c{i:03d}") for i in range(size)])
            s3.put_object(Bucket="mlrelay-demo-data", Key=f"bench/segments-{size}.csv", Body=table.to_csv(index=False).encode())
            config["model_name"] = f"bench-family-{size}"
            config["data"]["uri"] = f"s3://mlrelay-demo-data/bench/segments-{size}.csv"
            config["segments"] = {"column": "country", "min_rows": 50, "max_concurrency": args.concurrency}
            key = f"configs/train/bench-family-{size}.json"
            started = time.monotonic()
            put = s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(config).encode())
            run_id = training_run_id(bucket, key, put.get("VersionId"), put["ETag"])
            detail = finished_run(sfn, stack.info.state_machines, run_id, timeout_seconds=3600)
            wall = time.monotonic() - started
            if detail is None or detail.summary.status != "SUCCEEDED":
                sys.exit(f"{size} segments: the family run did not succeed ({detail.summary.status if detail else 'no run'})")
            events = history(sfn, detail.summary.execution_arn)
            transitions = sum(1 for e in events if "stateEnteredEventDetails" in e)
            pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.info.outputs["TrainingStateMachineArn"])
            children = [e for page in pages for e in page["executions"] if e["name"].startswith(f"segment-bench-family-{size}-")]
            child_transitions = sum(sum(1 for e in history(sfn, c["executionArn"]) if "stateEnteredEventDetails" in e)
                                    for c in children)
            print(f"{size:>8} {wall:>7.1f}s {wall / size:>11.2f}s {len(events):>14} {len(events) / size:>12.1f} "
                  f"{transitions:>19} {transitions / size:>12.1f} {child_transitions / max(len(children), 1):>18.1f}")
            print(f"         the family's history would reach {HISTORY_LIMIT:,} events at about "
                  f"{int(HISTORY_LIMIT / (len(events) / size)):,} segments")


if __name__ == "__main__":
    main()
