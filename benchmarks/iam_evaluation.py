"""What evaluating IAM costs each request on the embedded stack, beside the same request unevaluated.

The operator's requests skip evaluation (they are allowed); a function's are evaluated against its role. The
same DynamoDB GetItem and S3 GetObject, 500 times each way in alternating rounds of 50 after a warm-up, on one
running stack (medians); then the decision alone.

    python benchmarks/iam_evaluation.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS, PER_ROUND = 10, 50


def samples(call, count: int) -> list[float]:
    found = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1000)
    return found


def main() -> None:
    import boto3

    from mlrelay.local.emulated.iam import acting_as
    from mlrelay.local.iam.resources import calls
    from mlrelay.local.stack import EmbeddedStack

    with EmbeddedStack() as stack:
        model, bucket = stack.iam.model, stack.info.outputs["ConfigBucketName"]
        table = stack.applied.ref("RunsTable")
        stack.client("s3").put_object(Bucket=bucket, Key="runs/benchmark/run/spec-0/spec.json", Body=b"{}")  # no trigger
        role = next(arn for arn, r in model.roles.items() if r.name.endswith("TrainingStepRole"))
        session = model.session(role, "lambda.amazonaws.com", "benchmark")
        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")

        def get_item() -> None:
            dynamodb.get_item(TableName=table, Key={"run_id": {"S": "none"}})

        def get_object() -> None:
            s3.get_object(Bucket=bucket, Key="runs/benchmark/run/spec-0/spec.json")["Body"].read()

        rows = []
        for name, call in (("DynamoDB GetItem", get_item), ("S3 GetObject", get_object)):
            samples(call, PER_ROUND)  # warm-up: connections, caches
            unevaluated: list[float] = []
            evaluated: list[float] = []
            for _ in range(ROUNDS):
                unevaluated += samples(call, PER_ROUND)
                with acting_as(session):
                    evaluated += samples(call, PER_ROUND)
            rows.append((name, statistics.median(unevaluated), statistics.median(evaluated)))
        request = calls("dynamodb", "GetItem", {"TableName": table}, "us-east-1", model.account)[0]
        decision = statistics.median(samples(lambda: stack.iam.check(session, request), 5000))

    print(f"{'request':20} {'operator (not evaluated)':>26} {'role (evaluated)':>18} {'added':>8}")
    for name, unevaluated, evaluated in rows:
        print(f"{name:20} {unevaluated:23.2f} ms {evaluated:15.2f} ms {evaluated - unevaluated:+6.2f} ms")
    print(f"one decision alone (policy_sentry lookup cached, census recorded): {decision * 1000:.0f} µs")


if __name__ == "__main__":
    main()
