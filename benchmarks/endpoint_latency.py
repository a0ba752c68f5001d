"""What a real-time endpoint on the embedded stack adds to the model's own time, and what a multi-model target's
first request costs.

Deploys the endpoint tests' scikit-learn classifier (tests/functional/code/endpoint_model/) and sends 1,000
single-row CSV requests through boto3's sagemaker-runtime, beside the same serving functions called directly in one
process of the image's Python; then a multi-model endpoint with 20 targets: each target's first request (download
and model_fn) against the requests after it.

    MLRELAY_IMAGE_ENVS=$PWD/build/image-envs .venv/bin/python benchmarks/endpoint_latency.py
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from tests.functional import endpoint_models as em  # noqa: E402

REQUESTS, TARGETS, WARM_PER_TARGET = 1_000, 20, 5
BUCKET = "mlrelay-endpoint-benchmark"
# the serving functions on one row at a time, in one process: the floor an endpoint's request cannot go under
DIRECT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import serve
model = serve.model_fn(sys.argv[2])
times = []
for row in json.loads(sys.stdin.read()):
    started = time.perf_counter()
    serve.output_fn(serve.predict_fn(serve.input_fn(row, "text/csv"), model), "text/csv")
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps(times))
"""


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    work = Path(tempfile.mkdtemp())
    python = em.image_python(work / "env.log")
    model_dir = em.fit(python, work / "model")
    generator = random.Random(7)
    rows = [",".join(f"{generator.uniform(-2, 2):.4f}" for _ in range(4)) + "\n" for _ in range(REQUESTS)]
    direct = json.loads(subprocess.run([python, "-c", DIRECT, str(em.CODE), str(model_dir)], input=json.dumps(rows),
                                       capture_output=True, text=True, check=True).stdout)
    with EmbeddedStack(log_dir=work / "logs") as stack:
        s3, sagemaker, runtime = stack.client("s3"), stack.client("sagemaker"), stack.client("sagemaker-runtime")
        s3.create_bucket(Bucket=BUCKET)
        archive = em.tar_folder(model_dir)
        s3.put_object(Bucket=BUCKET, Key="single/model.tar.gz", Body=archive)
        s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=em.tar_folder(em.CODE))
        for target in range(TARGETS):
            s3.put_object(Bucket=BUCKET, Key=f"mme/model-{target}.tar.gz", Body=archive)
        role = em.model_role(stack.client("iam"), "endpoint-benchmark-role", BUCKET)
        code = f"s3://{BUCKET}/code/sourcedir.tar.gz"
        for name, data, multi in (("single", f"s3://{BUCKET}/single/model.tar.gz", False), ("multi", f"s3://{BUCKET}/mme/", True)):
            em.create_model(sagemaker, name, role, data, code, multi_model=multi)
            em.create_config(sagemaker, name, name)
            started = time.perf_counter()
            sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
            status = stack.endpoints.wait_settled(name, 300)
            print(f"endpoint {name}: {status} after {time.perf_counter() - started:.2f} s (CreateEndpoint to InService)")

        def invoke(name: str, row: str, **extra: str) -> float:
            started = time.perf_counter()
            runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Accept="text/csv", Body=row, **extra)["Body"].read()
            return (time.perf_counter() - started) * 1000

        invoke("single", rows[0])  # the client's first connection is not the endpoint's doing
        through = [invoke("single", row) for row in rows]
        first = [invoke("multi", rows[t], TargetModel=f"model-{t}.tar.gz") for t in range(TARGETS)]
        warm = [invoke("multi", rows[t * WARM_PER_TARGET + i], TargetModel=f"model-{t}.tar.gz")
                for t in range(TARGETS) for i in range(WARM_PER_TARGET)]

    (direct_p50, direct_p99), (through_p50, through_p99) = percentiles(direct), percentiles(through)
    print(f"\n{REQUESTS} single-row CSV requests   {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'predict_fn in one process':<32} {direct_p50:>9.3f} {direct_p99:>9.3f}")
    print(f"{'endpoint via sagemaker-runtime':<32} {through_p50:>9.3f} {through_p99:>9.3f}")
    print(f"{'overhead ratio (endpoint/direct)':<32} {through_p50 / direct_p50:>9.1f} {through_p99 / direct_p99:>9.1f}")
    (first_p50, first_p99), (warm_p50, warm_p99) = percentiles(first), percentiles(warm)
    print(f"\nmulti-model endpoint, {TARGETS} targets  {'p50 ms':>9} {'p99 ms':>9}")
    print(f"{'first request (download + load)':<32} {first_p50:>9.3f} {first_p99:>9.3f}")
    print(f"{f'next {WARM_PER_TARGET} per target (warm)':<32} {warm_p50:>9.3f} {warm_p99:>9.3f}")


if __name__ == "__main__":
    main()
