"""Resume a failed run from the step that failed (the `resume_run` function; `mlrelay runs resume` calls it)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.aws.errors import AwsError
from chalicelib.aws.stepfunctions import execution_arn_for
from chalicelib.resume.plan import NothingToDo, RecordedInput, Refused, Resume, plan_resume, recorded_inputs
from chalicelib.shared.messages import ConfigRef
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import ResumePorts
from chalicelib.shared.ports import aws_ports
from chalicelib.shared.runs import ResumeEntry

RETRYABLE_PIPELINE = {"Failed", "Stopped"}


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    config: ConfigRef | None = None  # a fixed config, already uploaded outside configs/


def handle_resume(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return resume_run(ResumeRequest.model_validate(event), aws_ports())


def resume_run(request: ResumeRequest, ports: ResumePorts) -> dict[str, Any]:
    record = ports.runs.get(request.run_id)
    if record is None:
        return {"outcome": "not_found", "message": f"no run {request.run_id} in the ledger; `mlrelay runs list` shows the runs"}
    changed = () if request.config else _changed_inputs(recorded_inputs(record), ports)
    plan = plan_resume(record, request.config, changed)
    if isinstance(plan, NothingToDo):
        return {"outcome": "nothing_to_do", "message": plan.message}
    if isinstance(plan, Refused):
        return {"outcome": "refused", "message": plan.message}
    machine = {"training": ports.training_machine, "segments": ports.segments_machine,
               "deploy": ports.deploy_machine}.get(plan.workflow, ports.inference_machine)
    execution_arn = execution_arn_for(machine, plan.execution_name)
    entry = ResumeEntry(
        run_id=plan.run_id, attempt=plan.attempt, execution_arn=execution_arn, from_state=plan.from_state,
        config_changed=plan.config_changed, config_json=json.dumps(plan.execution_input.get("config", {}), sort_keys=True),
        at=datetime.now(UTC).isoformat(), inputs_changed=plan.inputs_changed, forget_steps=plan.forget_steps,
    )
    if not ports.runs.begin_resume(entry):
        return {"outcome": "refused", "message": f"run {plan.run_id} was resumed by someone else just now"}
    try:
        retried = _retry_pipeline(plan, ports) if plan.retry_pipeline_arn else None
        ports.workflows.start(machine, plan.execution_name, plan.execution_input)
    except AwsError as err:
        ports.runs.resume_not_started(plan.run_id, str(err))
        raise
    logger.info("run resumed", extra={"run_id": plan.run_id, "from": plan.from_state, "attempt": plan.attempt})
    return {
        "outcome": "resumed",
        "run_id": plan.run_id,
        "workflow": plan.workflow,
        "from_state": plan.from_state,
        "attempt": plan.attempt,
        "execution_arn": execution_arn,
        "previous_execution_arn": record.failed_execution_arn,
        "retried_pipeline_execution_arn": retried,
        "config_changed": plan.config_changed,
        "inputs_changed": list(plan.inputs_changed),
    }


def _changed_inputs(recorded: list[RecordedInput], ports: ResumePorts) -> tuple[RecordedInput, ...]:
    """The inputs that hold something else now than when the run read them (a HEAD or a listing each)."""
    changed = []
    for recorded_input in recorded:
        try:
            now = ports.s3.identity(recorded_input.uri)
        except AwsError as err:  # not readable now: the resumed step meets it and says so in its own terms
            logger.warning("cannot tell whether a run input changed", extra={"uri": recorded_input.uri, "error": str(err)})
            continue
        if now != recorded_input.identity:
            changed.append(recorded_input)
    return tuple(changed)


def _retry_pipeline(plan: Resume, ports: ResumePorts) -> str | None:
    """Restart the failed pipeline from its failed step; a pipeline that did not fail is waited for as it is."""
    arn = str(plan.retry_pipeline_arn)
    if ports.pipelines.outcome(arn).status not in RETRYABLE_PIPELINE:
        return None
    ports.pipeline_callbacks.forget(arn)  # before the retry can end and report
    token = hashlib.sha256(f"retry\x1f{plan.run_id}\x1f{plan.attempt}".encode()).hexdigest()[:64]
    ports.pipelines.retry(arn, token)
    return arn
