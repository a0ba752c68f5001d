"""The client side of resuming a run: upload a fixed config, call resume_run, wait, say what was skipped."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.config.parsing import ConfigError
from chalicelib.shared.pipeline_runs import run_prefix
from mlrelay.runs import definition_of, history, resume_points, steps_from_history
from mlrelay.submission import Submission, check, publish


class ResumeError(RuntimeError):
    """The resume could not be asked for."""


def upload_resume_config(
    s3: Any, bucket: str, model_name: str, run_id: str, path: Path,
) -> tuple[dict[str, Any], Submission]:
    """Check `path` as `submit` does, pack and upload the code folder it names (as `submit` does), and put the config
    next to the outputs of the run (of `model_name`; outside configs/, so that it starts nothing). Returns the config's
    reference."""
    try:
        config, bundle = check(path)
    except ConfigError as err:
        problems = "; ".join(f"{p.path or '(file)'}: {p.message}" for p in err.problems)
        raise ResumeError(f"{path} is not a valid config, so the run was not resumed: {problems}") from err
    submission = publish(path, config, bundle, s3, bucket)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{run_prefix(model_name, run_id)}/resume-configs/{stamp}{path.suffix}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=submission.body)
    return {"bucket": bucket, "key": key, "version_id": put.get("VersionId"), "etag": put["ETag"].strip('"')}, submission


def invoke(lambda_client: Any, function_name: str, event: dict[str, Any]) -> dict[str, Any]:
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"{}")
    if "FunctionError" in response:
        raise ResumeError(f"{function_name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    return payload


def skipped_steps(sfn: Any, previous_execution_arn: str, from_state: str) -> list[str]:
    """The workflow's steps that did their work before `from_state` in the earlier attempt: the resumed run does not
    redo them. Only steps a run can resume at count (the failure path's reporting is no work of the run's)."""
    work = resume_points(definition_of(sfn, previous_execution_arn))
    names = []
    for step in steps_from_history(history(sfn, previous_execution_arn)):
        if step.name == from_state:
            break
        if step.name in work and step.state_type == "Task" and step.status == "succeeded":
            names.append(step.name)
    return names


def wait_for_execution(sfn: Any, execution_arn: str, timeout_seconds: float = 3600) -> str:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        if status != "RUNNING":
            return str(status)
        time.sleep(0.5)
    raise ResumeError(f"{execution_arn} still running after {timeout_seconds:.0f}s")
