"""Resume a failed run from the step that failed (the `resume_run` function; `mlrelay runs resume` calls it)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib import settings
from chalicelib.aws.callbacks import PipelineCallbacks
from chalicelib.aws.errors import AwsError
from chalicelib.aws.run_ledger import RunLedger
from chalicelib.aws.sagemaker import Pipelines
from chalicelib.aws.stepfunctions import Workflows, execution_arn_for
from chalicelib.messages import ConfigRef
from chalicelib.observability import logger
from chalicelib.resume_plan import NothingToDo, Refused, Resume, plan_resume

RETRYABLE_PIPELINE = {"Failed", "Stopped"}


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    config: ConfigRef | None = None  # a fixed config, already uploaded outside configs/


def handle_resume(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = ResumeRequest.model_validate(event)
    ledger = RunLedger(settings.runs_table())
    record = ledger.get(request.run_id)
    if record is None:
        return {"outcome": "not_found", "message": f"no run {request.run_id} in the ledger; `mlrelay runs list` shows the runs"}
    plan = plan_resume(record, request.config)
    if isinstance(plan, NothingToDo):
        return {"outcome": "nothing_to_do", "message": plan.message}
    if isinstance(plan, Refused):
        return {"outcome": "refused", "message": plan.message}
    machine = settings.training_state_machine_arn() if plan.workflow == "training" else settings.inference_state_machine_arn()
    execution_arn = execution_arn_for(machine, plan.execution_name)
    if not ledger.begin_resume(plan, execution_arn, datetime.now(timezone.utc).isoformat()):
        return {"outcome": "refused", "message": f"run {plan.run_id} was resumed by someone else just now"}
    try:
        retried = _retry_pipeline(plan) if plan.retry_pipeline_arn else None
        Workflows().start(machine, plan.execution_name, plan.execution_input)
    except AwsError as err:
        ledger.resume_not_started(plan.run_id, str(err))
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
    }


def _retry_pipeline(plan: Resume) -> str | None:
    """Restart the failed pipeline from its failed step; a pipeline that did not fail is waited for as it is."""
    arn = str(plan.retry_pipeline_arn)
    pipelines = Pipelines()
    if pipelines.outcome(arn).status not in RETRYABLE_PIPELINE:
        return None
    PipelineCallbacks(settings.pipeline_callbacks_table()).forget(arn)  # before the retry can end and report
    token = hashlib.sha256(f"retry\x1f{plan.run_id}\x1f{plan.attempt}".encode()).hexdigest()[:64]
    pipelines.retry(arn, token)
    return arn
