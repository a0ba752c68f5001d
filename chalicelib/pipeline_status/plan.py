"""The pipeline's status event, and what answer it means for the waiting workflow (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.shared.event_models import EventBridgeEvent

TERMINAL_STATUSES = {"Succeeded", "Failed", "Stopped"}


class PipelineStatusDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    pipeline_arn: str = Field(alias="pipelineArn")
    pipeline_execution_arn: str = Field(alias="pipelineExecutionArn")
    status: str = Field(alias="currentPipelineExecutionStatus")


class PipelineStatusEvent(EventBridgeEvent):
    detail: PipelineStatusDetail


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
