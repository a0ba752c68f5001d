"""The demo's story, one function per section."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.config.metrics import metric_values
from chalicelib.shared.naming import package_group_name, training_run_id
from mlrelay.demo.checks import Checks, finished_run, read_json, wait_for
from mlrelay.local.events import s3_object_created
from mlrelay.local.stack import ACCOUNT_ID, PROJECT_ROOT, EmbeddedStack
from mlrelay.runs import RunDetail, list_runs
from mlrelay.synthetic import synthesize
from mlrelay.tables import steps_table, versions_table

EXAMPLES = PROJECT_ROOT / "examples" / "configs"
VALID_CONFIG = EXAMPLES / "packaging-type.json"
BROKEN_CONFIG = EXAMPLES / "broken-packaging-type.json"
CONFIG_KEY = "configs/train/packaging-type.json"
DATA_BUCKET = "mlrelay-demo-data"  # the bucket the example config's data.uri names
CLEAN_DATA, NOISY_DATA = "catalogue/train.csv", "catalogue/train-noisy.csv"
CLEAN_NOISE, NOISY_NOISE = 0.02, 0.3
CATALOGUE_ROWS = 4000  # the clean table is also the catalogue inference predicts


def upload_demo_data(console: Console, stack: EmbeddedStack) -> None:
    console.print(f"\n[bold]2. Demo data[/] (mlrelay data synth) in s3://{DATA_BUCKET}/")
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=DATA_BUCKET)
    # versioned, as a data bucket should be: a version's lineage then names the exact object version it trained on
    s3.put_bucket_versioning(Bucket=DATA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key, seed, noise in ((CLEAN_DATA, 1, CLEAN_NOISE), (NOISY_DATA, 2, NOISY_NOISE)):
        frame = synthesize(CATALOGUE_ROWS, seed=seed, label_noise=noise)
        s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=frame.to_csv(index=False).encode())
        console.print(f"   {key}: {len(frame):,} items, {noise:.0%} of labels replaced at random")


def train_first_model(console: Console, checks: Checks, stack: EmbeddedStack) -> RunDetail | None:
    bucket = stack.info.outputs["ConfigBucketName"]
    console.print(f"\n[bold]3. Drop a training config[/]: {VALID_CONFIG.relative_to(PROJECT_ROOT)} → s3://{bucket}/{CONFIG_KEY}")
    body = VALID_CONFIG.read_bytes()
    detail = _drop_and_wait(checks, stack, body)
    if detail is None:
        return None
    console.print(steps_table(detail))
    registration = (detail.output or {}).get("registration", {})
    checks.check(
        registration.get("status") == "Approved",
        f"v{registration.get('version')} registered {registration.get('status')}: the first model needs only the floor",
    )
    metrics = (detail.output or {}).get("decision", {}).get("metrics", {})
    values = metric_values(metrics)
    accuracy, majority = values.get("accuracy") or 0.0, metrics.get("data", {}).get("majority_class_rate", 1.0)
    checks.check(
        accuracy > majority + 0.2,
        f"held-out accuracy {accuracy:.1%} against {majority:.1%} for always guessing the commonest package type "
        f"(macro F1 {values.get('macro_f1') or 0:.3f})",
    )
    _redeliver(checks, stack, bucket, body, detail)
    return detail


def train_noisy_model(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    console.print(f"\n[bold]4. A new version of the config[/], trained on s3://{DATA_BUCKET}/{NOISY_DATA} ({NOISY_NOISE:.0%} label noise)")
    config = json.loads(VALID_CONFIG.read_text())
    config["data"]["uri"] = f"s3://{DATA_BUCKET}/{NOISY_DATA}"
    detail = _drop_and_wait(checks, stack, json.dumps(config, indent=2).encode())
    if detail is None:
        return
    decision = (detail.output or {}).get("decision", {})
    registration = (detail.output or {}).get("registration", {})
    checks.check(registration.get("status") == "Rejected", f"v{registration.get('version')} registered {registration.get('status')}")
    reason = next((r for r in decision.get("reasons", []) if r.startswith("✗") and "vs approved" in r), "")
    checks.check(bool(reason), f"rejected because {reason.removeprefix('✗ ') or 'of something other than the metric drop'}")
    for other in [r for r in decision.get("reasons", []) if r.startswith("✗") and r != reason]:
        console.print(f"     and {other.removeprefix('✗ ')}")


def registry(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    console.print("\n[bold]5. The registry[/] (mlrelay models show packaging-type)")
    versions = ModelVersions(stack.info.outputs["ModelsTableName"])
    records = versions.versions("packaging-type")
    approved = versions.approved("packaging-type")
    console.print(versions_table(records, approved.version if approved else None))
    statuses = {r.version: r.status for r in records}
    checks.check(statuses == {1: "Approved", 2: "Rejected"}, "v1 Approved, v2 Rejected")
    checks.check(approved is not None and approved.version == 1, "the approved pointer stays on v1")
    group = package_group_name(stack.stage, "packaging-type")
    packages = stack.client("sagemaker").list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    in_registry = {int(p["ModelPackageArn"].rsplit("/", 1)[-1]): p["ModelApprovalStatus"] for p in packages}
    checks.check(in_registry == statuses, f"SageMaker model package group packaging-type agrees: {in_registry}")
    posted = wait_for(lambda: _slack_titles(stack, "packaging-type v"), timeout_seconds=15) or []
    checks.check(
        any("v1 promoted" in t for t in posted) and any("v2 rejected" in t for t in posted),
        f"Slack and SNS told: {'; '.join(posted)}",
    )


def broken_config(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    bucket = stack.info.outputs["ConfigBucketName"]
    key = "configs/train/" + BROKEN_CONFIG.name
    console.print(f"\n[bold]12. Drop a broken config[/]: {BROKEN_CONFIG.relative_to(PROJECT_ROOT)} → s3://{bucket}/{key}")
    s3 = stack.client("s3")
    before = len(list_runs(stack.client("stepfunctions"), stack.info.state_machines))
    s3.put_object(Bucket=bucket, Key=key, Body=BROKEN_CONFIG.read_bytes())
    stack.runtime.wait_idle()
    after = len(list_runs(stack.client("stepfunctions"), stack.info.state_machines))
    checks.check(after == before, f"nothing started for it (still {after} runs in total)")
    report_key = key + ".error.json"
    report = read_json(s3, bucket, report_key)
    if checks.check(report is not None, f"error report written: s3://{bucket}/{report_key}") and report is not None:
        table = Table("field", "problem", box=None, padding=(0, 2))
        for problem in report["problems"]:
            table.add_row(problem["path"] or "(file)", problem["message"])
        console.print(table)
    posted = wait_for(lambda: _slack_titles(stack, key), timeout_seconds=15) or []
    checks.check(len(posted) == 1, f"one alert in Slack and by SNS: {'; '.join(posted) or 'none'}")


def _slack_titles(stack: EmbeddedStack, containing: str) -> list[str]:
    return [m.message.get("text", "") for m in stack.slack.messages if containing in m.message.get("text", "")]


def _drop_and_wait(checks: Checks, stack: EmbeddedStack, body: bytes) -> RunDetail | None:
    bucket = stack.info.outputs["ConfigBucketName"]
    put = stack.client("s3").put_object(Bucket=bucket, Key=CONFIG_KEY, Body=body)
    run_id = training_run_id(bucket, CONFIG_KEY, put.get("VersionId"), put["ETag"])
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    if not checks.check(detail is not None, f"training run {run_id} started and finished") or detail is None:
        return None
    took = (detail.summary.stopped - detail.summary.started).total_seconds() if detail.summary.stopped else 0
    checks.check(detail.summary.status == "SUCCEEDED", f"it ended {detail.summary.status} in {took:.1f}s")
    return detail if detail.summary.status == "SUCCEEDED" else None


def _redeliver(checks: Checks, stack: EmbeddedStack, bucket: str, body: bytes, detail: RunDetail) -> None:
    config = detail.input["config"]
    event = s3_object_created(bucket, CONFIG_KEY, config["version_id"], config["etag"], len(body), ACCOUNT_ID, stack.info.region)
    for _ in range(2):
        stack.client("lambda").invoke(FunctionName=stack.info.functions["on_config_dropped"], Payload=json.dumps(event).encode())
    runs = [r for r in list_runs(stack.client("stepfunctions"), stack.info.state_machines) if r.run_id == detail.summary.run_id]
    checks.check(len(runs) == 1, "the same S3 event delivered twice more: still one run")

