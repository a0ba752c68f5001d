"""The cost of keeping the embedded stack's state on disk (`mlrelay local up`'s default), beside the same work in memory.

1. `mlrelay demo`, in memory and with `--state-dir` (a new folder each time).
2. A burst of config drops uploaded at once from 16 threads, until every run has
   started and ended (the fault plan ends each at its first state, so the trigger,
   S3, DynamoDB and Step Functions are measured, not trainings).
3. A start of the stack on a folder holding 500 such runs, beside a start on an
   empty folder and one in memory.

Each figure is the median of --repeat runs, each in a fresh process.

    .venv/bin/python benchmarks/durability.py [--repeat 3] [--configs 100] [--held 500] [--skip-demo]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONFIG = json.loads((ROOT / "examples" / "configs" / "packaging-type.json").read_text())
DATA_BUCKET = "mlrelay-demo-data"  # where the example config's data.uri points


def _stack(state_dir: str | None, log_dir: Path):  # imported late: the parent process only starts children
    from mlrelay.local.stack import EmbeddedStack

    return EmbeddedStack(log_dir=log_dir, state_dir=Path(state_dir) if state_dir else None)


def drops(state_dir: str | None, configs: int, prefix: str) -> None:
    """Child: `configs` drops at once; prints the seconds until every run has ended."""
    from mlrelay.synthetic import synthesize

    with tempfile.TemporaryDirectory() as scratch, _stack(state_dir, Path(scratch)) as stack:
        s3, bucket = stack.client("s3"), stack.info.outputs["ConfigBucketName"]
        if not stack.restored or not stack.restored.objects:  # the table the configs name, checked at each drop
            s3.create_bucket(Bucket=DATA_BUCKET)
            s3.put_object(Bucket=DATA_BUCKET, Key="catalogue/train.csv", Body=synthesize(1500, seed=1).to_csv(index=False).encode())
        stack.faults.fail_state("train-", "RecordRunStarted")
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: s3.put_object(Bucket=bucket, Key=f"configs/train/{prefix}-{n:04d}.json",
                                                  Body=json.dumps({**CONFIG, "model_name": f"{prefix}-{n:04d}"}).encode()),
                          range(configs)))
        stack.settle(timeout_seconds=1800)
        took = time.perf_counter() - started
        sfn, arn = stack.client("stepfunctions"), stack.info.outputs["TrainingStateMachineArn"]
        runs = [e for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn) for e in page["executions"]
                if e["name"].startswith(f"train-{prefix}-")]
        print(json.dumps({"seconds": took, "runs": len(runs), "running": sum(e["status"] == "RUNNING" for e in runs)}))


def start(state_dir: str | None) -> None:
    """Child: prints the seconds a start takes, and what it restored."""
    with tempfile.TemporaryDirectory() as scratch:
        stack = _stack(state_dir, Path(scratch))
        started = time.perf_counter()
        stack.start()
        took = time.perf_counter() - started
        restored = stack.restored.summary() if stack.restored else ""
        stack.stop(timeout_seconds=10, stop_jobs=True)
        print(json.dumps({"seconds": took, "restored": restored}))


def child(*args: str) -> dict:
    # each run's failure is an alert; Slack's one-post-a-second spacing would be the figure otherwise
    environment = {**os.environ, "SLACK_MIN_INTERVAL_SECONDS": "0.05"}
    answer = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, env=environment)
    if answer.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{answer.stdout[-3000:]}\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def demo_seconds(state_dir: str | None) -> float:
    command = [str(Path(sys.executable).with_name("mlrelay")), "demo"] + (["--state-dir", state_dir] if state_dir else [])
    started = time.perf_counter()
    answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if answer.returncode:
        sys.exit(f"the demo failed:\n{answer.stdout[-3000:]}")
    return time.perf_counter() - started


def row(name: str, memory: list[float], disk: list[float], note: str = "") -> None:
    a, b = statistics.median(memory), statistics.median(disk)
    print(f"{name:44} {a:8.1f}s {b:8.1f}s {b / a:6.2f}x  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--configs", type=int, default=100)
    parser.add_argument("--held", type=int, default=500)
    parser.add_argument("--skip-demo", action="store_true")
    options = parser.parse_args()
    print(f"{'':44} {'memory':>9} {'on disk':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as scratch:
        folders = iter(Path(scratch, f"state-{n}") for n in range(1000))
        if not options.skip_demo:
            row("mlrelay demo", [demo_seconds(None) for _ in range(options.repeat)],
                [demo_seconds(str(next(folders))) for _ in range(options.repeat)])
        memory = [child("drops", "", str(options.configs), "burst") for _ in range(options.repeat)]
        disk = [child("drops", str(next(folders)), str(options.configs), "burst") for _ in range(options.repeat)]
        assert all(r["runs"] == options.configs and not r["running"] for r in memory + disk), (memory, disk)
        row(f"{options.configs} config drops at once, runs ended", [r["seconds"] for r in memory], [r["seconds"] for r in disk],
            f"{options.configs} runs each time")
        held = next(folders)
        made = child("drops", str(held), str(options.held), "held")
        empty = next(folders)
        starts = {name: [child("start", folder) for _ in range(options.repeat)]
                  for name, folder in (("memory", ""), ("empty", str(empty)), ("held", str(held)))}
        row("start: in memory / an empty folder", [r["seconds"] for r in starts["memory"]], [r["seconds"] for r in starts["empty"]])
        row(f"start: in memory / a folder with {made['runs']} runs", [r["seconds"] for r in starts["memory"]],
            [r["seconds"] for r in starts["held"]], f"(making them took {made['seconds']:.0f} s)")
        print(f"  restored: {starts['held'][-1]['restored']}")
    print(f"median of {options.repeat}, each in a fresh process; machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "drops":
        drops(sys.argv[2] or None, int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "start":
        start(sys.argv[2] or None)
    else:
        main()
