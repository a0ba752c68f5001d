"""How long each console page takes to answer: on a stage with one run and one version (the baseline), then with
1,000 runs and 100 versions of one model (the issue's target: every page within 1 s).

One real training run and one real inference run give the run page and the monitoring page their content; the
1,000 runs are executions of a one-state machine listed beside the stage's own (ListExecutions answers alike for
any definition; one in ten fails); the 100 versions are copies of the real one in the models table, each with its
own metrics. The console runs as people run it, `mlrelay console` in a process of its own beside the stack's; each
page is asked for once to warm it, then five times over HTTP; the median and the slowest are printed.

    MLRELAY_IMAGE_ENVS=$PWD/build/image-envs .venv/bin/python benchmarks/console_pages.py
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.aws.model_versions import ModelVersions  # noqa: E402
from mlrelay.local.stack import ACCOUNT_ID, EmbeddedStack  # noqa: E402
from mlrelay.local.state_file import STATE_FILE_ENV, write_state  # noqa: E402
from mlrelay.runs import list_runs  # noqa: E402
from mlrelay.synthetic import synthesize  # noqa: E402
from tests.conftest import valid_config  # noqa: E402

RUNS, VERSIONS, ASKED = 1_000, 100, 5
MODEL, DATA = "bench-model", "mlrelay-demo-data"
ONE_STATE = {"StartAt": "Outcome", "States": {"Outcome": {"Type": "Choice", "Default": "Done", "Choices": [
    {"Variable": "$.fail", "BooleanEquals": True, "Next": "Broke"}]}, "Done": {"Type": "Succeed"},
    "Broke": {"Type": "Fail", "Error": "Benchmark", "Cause": "one in ten runs fails"}}}


def page_times(url: str, paths: list[str]) -> dict[str, tuple[float, float]]:
    times = {}
    for path in paths:
        taken = []
        for asked in range(ASKED + 1):
            started = time.perf_counter()
            with urllib.request.urlopen(url + path.lstrip("/"), timeout=60) as answer:  # nosec B310 - the console on localhost
                answer.read()
                assert answer.status == 200, (path, answer.status)
            if asked:  # the first answer warms the page's imports and clients, as the console's first visitor does
                taken.append(time.perf_counter() - started)
        times[path] = (statistics.median(taken), max(taken))
    return times


@contextmanager
def console_process() -> Iterator[str]:
    """`mlrelay console --port 0` on the stack the state file names; yields the address it prints."""
    process = subprocess.Popen([sys.executable, "-m", "mlrelay.cli.main", "console", "--port", "0"], stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "COLUMNS": "300"})
    try:
        assert process.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        if found is None:
            raise RuntimeError("mlrelay console printed no address")
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_quiet(stack: EmbeddedStack, sfn, machines: dict[str, str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while any(run.status == "RUNNING" for run in list_runs(sfn, machines)):
        if time.monotonic() > deadline:
            raise RuntimeError("runs still running")
        time.sleep(0.5)
    stack.wait_idle()


def main() -> None:
    work = Path(tempfile.mkdtemp())
    with EmbeddedStack(log_dir=work / "logs", time_scale=0.1) as stack:
        s3, sfn = stack.client("s3"), stack.client("stepfunctions")
        s3.create_bucket(Bucket=DATA)
        s3.put_object(Bucket=DATA, Key="catalogue/train.csv", Body=synthesize(1500, seed=1).to_csv(index=False).encode())
        bucket = stack.info.outputs["ConfigBucketName"]
        s3.put_object(Bucket=bucket, Key=f"configs/train/{MODEL}.json",
                      Body=json.dumps(valid_config(model_name=MODEL, inference={"daily": False, "monthly": False})))
        wait_quiet(stack, sfn, stack.info.state_machines)
        s3.put_object(Bucket=bucket, Key=f"configs/infer/{MODEL}.json", Body=json.dumps(
            {"schema_version": 1, "model_name": MODEL, "catalogue_uri": f"s3://{DATA}/catalogue/train.csv"}))
        wait_quiet(stack, sfn, stack.info.state_machines)
        (trained,) = [run for run in list_runs(sfn, stack.info.state_machines) if run.workflow == "training"]

        machine = sfn.create_state_machine(name="mlrelay-dev-benchmark", definition=json.dumps(ONE_STATE),
                                           roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/benchmark")
        machines = {**stack.info.state_machines, "BenchmarkStateMachine": machine["stateMachineArn"]}
        os.environ[STATE_FILE_ENV] = str(work / "local.json")
        write_state(replace(stack.info, state_machines=machines))
        paths = ["/runs", f"/runs?model={MODEL}&status=FAILED", f"/runs/{trained.run_id}", "/models", f"/models/{MODEL}",
                 f"/monitoring/{MODEL}", "/alerts"]
        with console_process() as url:
            baseline = page_times(url, paths)

            started = time.perf_counter()
            for number in range(RUNS):
                sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"train-{MODEL}-{number:04d}",
                                    input=json.dumps({"fail": number % 10 == 0}))
            versions = ModelVersions(stack.info.outputs["ModelsTableName"], stack.client("dynamodb"))
            first = versions.version(MODEL, 1)
            assert first is not None
            for number in range(2, VERSIONS + 1):
                metrics = json.loads(json.dumps(first.metrics))
                section = next(value for value in metrics.values() if isinstance(value, dict) and "macro_f1" in value)
                section["macro_f1"]["value"] = round(section["macro_f1"]["value"] - 0.001 * (number % 17), 4)
                versions.put(replace(first, version=number, status="Rejected" if number % 3 else "Approved", metrics=metrics,
                                     run_id=f"train-{MODEL}-{number:04d}"))
            wait_quiet(stack, sfn, machines)
            found = list_runs(sfn, machines)
            print(f"seeded {len(found):,} runs and {len(versions.versions(MODEL))} versions in {time.perf_counter() - started:.1f} s")
            loaded = page_times(url, paths)

    print(f"\n{'page':<58} {'1 run, 1 version':>22} {f'{len(found):,} runs, {VERSIONS} versions':>26}")
    print(f"{'':<58} {'median / slowest':>22} {'median / slowest':>26}")
    for path in paths:
        (base, base_max), (now, now_max) = baseline[path], loaded[path]
        print(f"{path[:58]:<58} {base * 1000:>10.0f} / {base_max * 1000:>5.0f} ms {now * 1000:>14.0f} / {now_max * 1000:>5.0f} ms")
    slowest = max(loaded[path][1] for path in paths)
    print(f"\nslowest page answer with {len(found):,} runs and {VERSIONS} versions: {slowest:.2f} s (target: under 1 s)")


if __name__ == "__main__":
    main()
