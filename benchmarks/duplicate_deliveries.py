"""The trigger under duplicate and simultaneous deliveries, on a fresh embedded stack.

1. One config is uploaded (S3's own event starts its run); then the same AWS-shaped
   "Object Created" event for that object version is delivered 1,000 times more, from
   16 threads, through the Lambda API (as EventBridge's retries or a replay would).
   Exactly one run must exist and every delivery must be handled without a function
   error; prints deliveries per second and what each delivery answered.
2. 200 distinct configs are uploaded at once from 16 threads: 200 runs must start.
   Their runs are stopped at their first state by the fault plan, so the figure is the
   trigger's, not 200 trainings'.

    .venv/bin/python benchmarks/duplicate_deliveries.py [--deliveries 1000] [--configs 200] [--threads 16]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlrelay.local.events import s3_object_created  # noqa: E402
from mlrelay.local.stack import ACCOUNT_ID, REGION, EmbeddedStack  # noqa: E402
from mlrelay.synthetic import synthesize  # noqa: E402

DATA_BUCKET = "mlrelay-demo-data"
CONFIG = json.loads((ROOT / "examples" / "configs" / "packaging-type.json").read_text())
CONFIG["model"] = {"type": "sklearn.gradient_boosting", "hyperparameters": {"n_estimators": 20, "max_depth": 2}}


def executions(sfn, arn: str, prefix: str) -> list[dict]:
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        found += [e for e in page["executions"] if e["name"].startswith(prefix)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--configs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, EmbeddedStack(log_dir=Path(scratch)) as stack:
        s3, sfn, lambda_ = stack.client("s3"), stack.client("stepfunctions"), stack.client("lambda")
        bucket, training = stack.info.outputs["ConfigBucketName"], stack.info.outputs["TrainingStateMachineArn"]
        s3.create_bucket(Bucket=DATA_BUCKET)
        s3.put_object(Bucket=DATA_BUCKET, Key="catalogue/train.csv", Body=synthesize(1500, seed=1).to_csv(index=False).encode())
        stack.faults.fail_state("train-", "RecordRunStarted")  # every run ends at its first state: the trigger is measured

        key, body = "configs/train/duplicates.json", json.dumps({**CONFIG, "model_name": "duplicates"}).encode()
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        event = json.dumps(s3_object_created(bucket, key, put["VersionId"], put["ETag"], len(body), ACCOUNT_ID, REGION)).encode()
        function = stack.info.functions["on_config_dropped"]

        def deliver(_: int) -> str:
            answer = lambda_.invoke(FunctionName=function, Payload=event)
            payload = json.loads(answer["Payload"].read())
            return "function error" if "FunctionError" in answer else payload.get("outcome", "?")

        started = time.perf_counter()
        with ThreadPoolExecutor(options.threads) as pool:
            answers = collections.Counter(pool.map(deliver, range(options.deliveries)))
        took = time.perf_counter() - started
        stack.runtime.wait_idle()
        runs = executions(sfn, training, "train-duplicates-")
        print(f"{options.deliveries:,} deliveries of one object version from {options.threads} threads: {took:.1f} s, "
              f"{options.deliveries / took:,.0f} deliveries/s")
        print(f"  answers: {dict(answers)}")
        print(f"  runs: {len(runs)} (expected 1); function errors: {answers['function error']} (expected 0)")

        started = time.perf_counter()
        with ThreadPoolExecutor(options.threads) as pool:
            list(pool.map(lambda n: s3.put_object(Bucket=bucket, Key=f"configs/train/distinct-{n:04d}.json",
                                                  Body=json.dumps({**CONFIG, "model_name": f"distinct-{n:04d}"}).encode()),
                          range(options.configs)))
        stack.runtime.wait_idle(timeout_seconds=600)
        took = time.perf_counter() - started
        distinct = executions(sfn, training, "train-distinct-")
        print(f"{options.configs} distinct configs uploaded at once from {options.threads} threads: {len(distinct)} runs "
              f"(expected {options.configs}) in {took:.1f} s, {options.configs / took:,.1f} configs/s through S3, EventBridge, "
              "the trigger (with its table check) and Step Functions")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if len(runs) != 1 or answers["function error"] or len(distinct) != options.configs:
        sys.exit(1)


if __name__ == "__main__":
    main()
