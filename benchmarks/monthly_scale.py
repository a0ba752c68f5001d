"""A monthly inference run over 1,000,000 catalogue items, end to end on a fresh embedded stack, against the same
step scripts run directly on the same data.

Orchestrated: the monthly schedule's run through Step Functions, the SageMaker
pipeline on the local runner (Prepare, Transform, Assemble beside Monitor, with
every input and output through the emulated S3), the monitoring rows and the
Redshift Data API load, verified by the row count. Direct: prepare_inference.py,
the batch transform host, assemble_predictions.py and monitor.py on local files,
one after the other, then one DuckDB load of the assembled files. Prints both wall times, rows per second, their ratio (target: the
orchestration within 1.3x), and the peak memory of the process that runs the
stack (the runner).

    .venv/bin/python benchmarks/monthly_scale.py [--items 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.warehouse_load import load_directly  # noqa: E402
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls  # noqa: E402
from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from mlrelay.synthetic import synthesize  # noqa: E402
from mlrelay.warehouse_client import connection_from, run_statement  # noqa: E402

DATA = "mlrelay-demo-data"
SCRIPTS = ROOT / "pipelines" / "scripts"
MONTHS = ("2026-10", "2026-11", "2026-12", "2027-01", "2027-02")


def wait_for(sfn, arn: str, prefix: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(prefix)]
        if found and all(e["status"] != "RUNNING" for e in found):
            return found[0]
        time.sleep(0.5)
    sys.exit(f"{prefix} did not end within {timeout:.0f} s")


def keys_ending(s3, bucket: str, suffix: str, containing: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(suffix) and containing in o["Key"])


def state_seconds(sfn, execution_arn: str) -> dict[str, float]:
    """Seconds spent in each state of an execution (summed over visits), from its history."""
    events = [e for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn) for e in page["events"]]
    spent: dict[str, float] = {}
    current, since = None, None
    for event in events:
        details = event.get("stateEnteredEventDetails")
        if details or event["type"] == "ExecutionSucceeded":
            if current is not None:
                spent[current] = spent.get(current, 0.0) + (event["timestamp"] - since).total_seconds()
            current, since = (details["name"], event["timestamp"]) if details else (None, None)
    return spent


def pipeline_step_seconds(sagemaker, pipeline: str) -> dict[str, float]:
    """Seconds each step of the pipeline's latest execution took."""
    (latest, *_) = sagemaker.list_pipeline_executions(PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending")[
        "PipelineExecutionSummaries"]
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=latest["PipelineExecutionArn"])["PipelineExecutionSteps"]
    return {step["StepName"]: (step["EndTime"] - step["StartTime"]).total_seconds() for step in listed if step.get("EndTime")}


def timed_step(name: str, command: list[str], **kwargs) -> float:
    seconds = run(command, **kwargs)
    print(f"  {name} {seconds:.1f} s", flush=True)
    return seconds


def run(command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if finished.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} failed: {finished.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, choices=range(1, len(MONTHS) + 1), help="runs of each path, for the median")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="mlrelay-scale-"))
    catalogue = scratch / "catalogue" / "items.csv"
    catalogue.parent.mkdir()
    print(f"writing a catalogue of {options.items:,} items…", flush=True)
    synthesize(options.items, seed=3).to_csv(catalogue, index=False)

    with EmbeddedStack(log_dir=scratch / "logs") as stack:
        s3, sfn = stack.client("s3"), stack.client("stepfunctions")
        outputs = stack.info.outputs
        s3.create_bucket(Bucket=DATA)
        s3.put_object(Bucket=DATA, Key="catalogue/train.csv", Body=synthesize(4000, seed=1).to_csv(index=False).encode())
        s3.upload_file(str(catalogue), DATA, "catalogue/items.csv")
        config = json.loads((ROOT / "examples" / "configs" / "packaging-type.json").read_text())
        config.update(model_name="scale", model={"type": "sklearn.gradient_boosting", "hyperparameters": {"n_estimators": 50}},
                      inference={"daily": False, "monthly": True, "catalogue_uri": f"s3://{DATA}/catalogue/items.csv"})
        s3.put_object(Bucket=outputs["ConfigBucketName"], Key="configs/train/scale.json", Body=json.dumps(config).encode())
        stack.runtime.wait_idle()
        trained = wait_for(sfn, outputs["TrainingStateMachineArn"], "train-scale-", 600)
        if trained["status"] != "SUCCEEDED":
            sys.exit(f"training ended {trained['status']}")
        target = PredictionsTable(*outputs["PredictionsTableName"].split("."))
        run_statement(stack.client("redshift-data"), connection_from(outputs), sqls=create_table_sqls(target))

        timings, loaded_counts = [], []
        for month in MONTHS[:options.repeat]:
            print(f"monthly run {month} (orchestrated)…", flush=True)
            run_id = f"infer-scale-monthly-{month}"
            run_input = {"run_id": run_id, "workflow": "inference", "model_name": "scale", "mode": "monthly",
                         "scheduled_for": f"{month}-01T06:00:00Z", "catalogue_uri": None, "callback_timeout_seconds": None}
            started = time.perf_counter()
            sfn.start_execution(stateMachineArn=outputs["InferenceStateMachineArn"], name=run_id, input=json.dumps(run_input))
            monthly = wait_for(sfn, outputs["InferenceStateMachineArn"], run_id, 3600)
            timings.append(time.perf_counter() - started)
            loaded_counts.append(stack.warehouse.query(f"SELECT count(*) FROM {target.qualified} WHERE run_id = '{run_id}'")[0][0])
            if monthly["status"] != "SUCCEEDED":
                sys.exit(f"the monthly run {run_id} ended {monthly['status']}")
        orchestrated, loaded = statistics.median(timings), min(loaded_counts)
        states = state_seconds(sfn, monthly["executionArn"])
        steps = pipeline_step_seconds(stack.client("sagemaker"), f"mlrelay-{stack.info.stage}-inference")
        runner_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        bucket = outputs["ArtifactBucketName"]
        (model_key,) = keys_ending(s3, bucket, "model.tar.gz")
        (spec_key,) = keys_ending(s3, bucket, "spec.json", containing=run_id)
        model_dir, spec_dir, baseline_dir = scratch / "model", scratch / "spec", scratch / "baseline"
        for directory in (model_dir, spec_dir, baseline_dir):
            directory.mkdir()
        s3.download_file(bucket, model_key, str(scratch / "model.tar.gz"))
        s3.download_file(bucket, spec_key, str(spec_dir / "spec.json"))
        for name in ("statistics.json", "constraints.json", "attributions.json"):  # the version's monitoring baseline
            (key,) = keys_ending(s3, bucket, f"evaluation/{name}", containing=trained["name"])
            s3.download_file(bucket, key, str(baseline_dir / name))
    with tarfile.open(scratch / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    if loaded != options.items:
        sys.exit(f"a monthly run loaded {loaded:,} rows of {options.items:,}")
    direct_timings = []
    for attempt in range(options.repeat):
        print("the same steps run directly…", flush=True)
        seconds, direct_rows = run_directly(scratch / f"direct-{attempt}", catalogue, spec_dir, model_dir, baseline_dir, target)
        direct_timings.append(seconds)
    direct = statistics.median(direct_timings)

    print(f"orchestrated monthly run: {loaded:,} rows loaded, median {orchestrated:.1f} s of {options.repeat} "
          f"({', '.join(f'{t:.1f}' for t in timings)}) = {loaded / orchestrated:,.0f} rows/s")
    slowest = sorted(states.items(), key=lambda item: -item[1])[:5]
    print("  where the last run spent its time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest))
    print("  its pipeline's steps: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items()))
    print(f"the step scripts directly: {direct_rows:,} rows, median {direct:.1f} s of {options.repeat} "
          f"({', '.join(f'{t:.1f}' for t in direct_timings)}) = {direct_rows / direct:,.0f} rows/s")
    print(f"ratio: the orchestrated run takes {orchestrated / direct:.2f}x the direct steps' time (target 1.3x)")
    # Steps are forked from the stack's warm interpreter, so no child's peak here is a step's own: only the stack's is printed.
    print(f"peak memory: the stack's process {runner_peak_mb:,.0f} MB")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


def run_directly(
    root: Path, catalogue: Path, spec_dir: Path, model_dir: Path, baseline_dir: Path, target: PredictionsTable,
) -> tuple[float, int]:
    """Prepare, transform, assemble and monitor on local files, then one DuckDB load: (seconds, rows loaded)."""
    work = {name: root / name for name in ("items", "ids", "selection", "predictions", "assembled", "monitoring")}
    python, environment = sys.executable, {**os.environ, "PYTHONPATH": str(ROOT)}
    direct = timed_step("Prepare", [python, str(SCRIPTS / "prepare_inference.py"), "--input", str(catalogue.parent),
                                    "--spec", str(spec_dir),
                  "--items", str(work["items"]), "--ids", str(work["ids"]), "--selection", str(work["selection"])])
    direct += timed_step("Transform", [python, "-m", "mlrelay.local.transform_host",
                                       "--code-dir", str(ROOT / "pipelines" / "builtin" / "sklearn"),
                   "--program", "train.py", "--model-dir", str(model_dir), "--input-dir", str(work["items"]),
                   "--output-dir", str(work["predictions"]), "--content-type", "text/csv", "--accept", "application/jsonlines",
                   "--split-type", "Line"], env=environment)
    direct += timed_step("Assemble", [python, str(SCRIPTS / "assemble_predictions.py"), "--ids", str(work["ids"]), "--predictions",
                   str(work["predictions"]), "--spec", str(spec_dir), "--output", str(work["assembled"]),
                   "--output-uri", "s3://local/assembled", "--library", str(SCRIPTS)])
    direct += timed_step("Monitor", [python, str(SCRIPTS / "monitor.py"), "--items", str(work["items"]), "--selection",
                   str(work["selection"]), "--predictions", str(work["predictions"]), "--baseline", str(baseline_dir),
                   "--spec", str(spec_dir), "--library", str(SCRIPTS), "--output", str(work["monitoring"]),
                   "--output-uri", "s3://local/monitoring"])
    seconds, rows = load_directly(target, sorted(work["assembled"].rglob("*.csv")), "scale", "direct")
    return direct + seconds, rows


if __name__ == "__main__":
    main()
