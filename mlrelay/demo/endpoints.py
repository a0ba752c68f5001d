"""The demo's real-time section: an approved version answers from its endpoint, a promotion moves the endpoint to the
new version and a rollback moves it back, and the country family answers by segment from one multi-model endpoint."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.shared.naming import training_run_id
from mlrelay.demo.checks import Checks, finished_run, wait_for
from mlrelay.demo.sections import CLEAN_DATA, DATA_BUCKET, VALID_CONFIG
from mlrelay.demo.segments import COUNTRIES, FAMILY
from mlrelay.endpoints_view import endpoint_rows, row_text
from mlrelay.local.stack import EmbeddedStack
from mlrelay.serving_client import predictions, readable, requests_for, target_for
from mlrelay.synthetic import synthesize

MODEL = "packaging-type-live"
SERVING = {"endpoint": "serverless", "memory_mb": 2048, "max_concurrency": 5, "canary_minutes": 0}
ROWS = 5


def endpoints(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    console.print(f"\n[bold]15. Real-time predictions[/]: {MODEL} with serving.endpoint serverless; each approved version "
                  "is deployed to its endpoint by a deploy run")
    versions = ModelVersions(stack.info.outputs["ModelsTableName"], stack.client("dynamodb"))
    config = json.loads(VALID_CONFIG.read_text())
    config.update(model_name=MODEL, serving=SERVING, inference={"daily": False, "monthly": False})
    config.pop("monitoring", None)
    config["data"]["uri"] = f"s3://{DATA_BUCKET}/{CLEAN_DATA}"
    rows = synthesize(ROWS, seed=77)
    for version in (1, 2):
        if not _train_and_deploy(checks, stack, config, version):
            return
        serving = _ask(stack, versions, MODEL, None, rows)
        checks.check(serving[0] == version, f"the endpoint answers with v{version}: "
                                            + ", ".join(readable(line) for line in serving[1]))
    right = sum(_label(line) == label for line, label in zip(serving[1], rows["package_type"], strict=True))
    checks.check(right >= ROWS - 1, f"{right} of {ROWS} new items predicted as packed (mlrelay predict {MODEL} --data FILE.csv)")
    before = {r["name"] for r in _deploy_runs(stack, MODEL, 1)}
    answer = stack.client("lambda").invoke(FunctionName=stack.info.functions["decide_model"], Payload=json.dumps({
        "action": "rollback", "model_name": MODEL, "reason": "the demo rolls back", "actor": "the demo"}).encode())
    console.print(f"   mlrelay models rollback {MODEL}: {json.loads(answer['Payload'].read())['message']}")
    stack.runtime.wait_idle()
    rolled = wait_for(lambda: [r for r in _deploy_runs(stack, MODEL, 1) if r["name"] not in before and r["status"] != "RUNNING"],
                      timeout_seconds=120) or []
    checks.check(bool(rolled) and rolled[0]["status"] == "SUCCEEDED" and _ask(stack, versions, MODEL, None, rows)[0] == 1,
                 "the rollback's deploy run moved the endpoint back to v1, blue/green")
    _family(console, checks, stack, versions, rows)
    for row in endpoint_rows(versions, stack.client("sagemaker"), stack.stage):
        console.print(f"   {row_text(row)}")


def _train_and_deploy(checks: Checks, stack: EmbeddedStack, config: dict[str, Any], version: int) -> bool:
    bucket, key = stack.info.outputs["ConfigBucketName"], f"configs/train/{MODEL}.json"
    put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(config).encode())
    run_id = training_run_id(bucket, key, put.get("VersionId"), put["ETag"])
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id, timeout_seconds=240)
    promoted = detail is not None and (detail.output or {}).get("registration", {}).get("status") == "Approved"
    deployed = wait_for(lambda: [r for r in _deploy_runs(stack, MODEL, version) if r["status"] != "RUNNING"],
                        timeout_seconds=120) or []
    return checks.check(promoted and bool(deployed) and deployed[0]["status"] == "SUCCEEDED",
                        f"v{version} approved by its training run, then deployed by {deployed[0]['name'] if deployed else 'no run'}")


def _deploy_runs(stack: EmbeddedStack, model: str, version: int) -> list[dict[str, Any]]:
    machine = stack.info.outputs["DeployStateMachineArn"]
    prefix = f"deploy-{model}-v{version}-"
    return [e for e in stack.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
            if e["name"].startswith(prefix)]


def _ask(stack: EmbeddedStack, versions: ModelVersions, model: str, segment: str | None, rows: Any) -> tuple[int, list[str]]:
    """(the version that answered, one line per row), as `mlrelay predict` asks."""
    target = target_for(versions, model, segment)
    bodies = requests_for(versions, stack.client("s3"), target, rows.to_dict("records"))
    return target.version, predictions(stack.client("sagemaker-runtime"), target, bodies, len(rows))


def _label(line: str) -> str:
    return readable(line).split(" (")[0]


def _family(console: Console, checks: Checks, stack: EmbeddedStack, versions: ModelVersions, rows: Any) -> None:
    approved = [c for c in COUNTRIES if (versions.approved(f"{FAMILY}-{c.lower()}") is not None)]
    done = wait_for(lambda: all(versions.deployment(f"{FAMILY}-{c.lower()}") for c in approved) or None, timeout_seconds=120)
    if not checks.check(bool(done) and bool(approved), f"{len(approved)} countries' models deployed to one multi-model "
                                                      f"endpoint, mlrelay-{stack.stage}-{FAMILY}, each as its own archive"):
        return
    answers = {country: _ask(stack, versions, FAMILY, country, rows.head(1))[1][0] for country in approved[:3]}
    checks.check(len(answers) == min(3, len(approved)), "by segment (mlrelay predict " + FAMILY + " --segment DE): "
                 + "; ".join(f"{country} {readable(line)}" for country, line in answers.items()))
