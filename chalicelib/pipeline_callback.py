"""Answer the workflow that waits for a SageMaker pipeline, from the pipeline's status event.

The workflow stores its task token against the pipeline execution ARN; this
handler stores the outcome against the same key. Whichever comes second
completes the handshake (the workflow reads the stored outcome when it was
too late to wait), so a fast pipeline cannot strand a run. A duplicate
event finds the delivery already claimed and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import settings
from chalicelib.aws.callbacks import PipelineCallbacks
from chalicelib.aws.sagemaker import Pipelines
from chalicelib.aws.stepfunctions import TaskCallbacks
from chalicelib.observability import logger

TERMINAL_STATUSES = {"Succeeded", "Failed", "Stopped"}


class PipelineStatusDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    pipeline_arn: str = Field(alias="pipelineArn")
    pipeline_execution_arn: str = Field(alias="pipelineExecutionArn")
    status: str = Field(alias="currentPipelineExecutionStatus")


class PipelineStatusEvent(EventBridgeModel):
    detail: PipelineStatusDetail  # type: ignore[assignment]


@dataclass(frozen=True)
class SendSuccess:
    output: dict[str, Any]


@dataclass(frozen=True)
class SendFailure:
    error: str
    cause: str


def plan_callback(execution_arn: str, status: str, failure_reason: str) -> SendSuccess | SendFailure:
    if status == "Succeeded":
        return SendSuccess({"pipeline_execution_arn": execution_arn, "status": status})
    return SendFailure(
        error=f"Pipeline{status}",
        cause=f"SageMaker pipeline execution {status.lower()}: {failure_reason or 'no reason given'} ({execution_arn})",
    )


def handle_pipeline_status(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = PipelineStatusEvent.model_validate(event).detail
    arn = detail.pipeline_execution_arn
    if detail.status not in TERMINAL_STATUSES:
        return {"outcome": "ignored", "status": detail.status}
    reason = "" if detail.status == "Succeeded" else Pipelines().outcome(arn).failure_reason
    callbacks = PipelineCallbacks(settings.pipeline_callbacks_table())
    record = callbacks.record_outcome(arn, detail.status, reason)
    if record.task_token is None:
        logger.info("pipeline ended before its workflow waited; the workflow reads the outcome", extra={"arn": arn})
        return {"outcome": "recorded"}
    if not callbacks.claim_delivery(arn, datetime.now(timezone.utc).isoformat()):
        logger.info("duplicate pipeline status event", extra={"arn": arn, "status": detail.status})
        return {"outcome": "duplicate"}
    plan = plan_callback(arn, detail.status, reason)
    tasks = TaskCallbacks()
    if isinstance(plan, SendSuccess):
        delivered = tasks.succeed(record.task_token, plan.output)
    else:
        delivered = tasks.fail(record.task_token, plan.error, plan.cause)
    return {"outcome": "delivered" if delivered else "stale_token", "status": detail.status}
