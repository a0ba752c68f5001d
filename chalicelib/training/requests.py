"""What the training state machine's Lambda steps are given: one model per step, told apart by `step`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from chalicelib.config.judging import PromotionRules
from chalicelib.shared.messages import ConfigRef


class LoadConfigStep(BaseModel):
    step: Literal["load_config"]
    run_id: str
    model_name: str  # the run's model (a segment's own in a family), which its outputs are kept under
    config: ConfigRef
    callback_timeout_seconds: int | None = None


class EvaluateStep(BaseModel):
    step: Literal["evaluate"]
    run_id: str
    model_name: str
    approval: PromotionRules


class RegisterStep(BaseModel):
    step: Literal["register"]
    run_id: str
    model_name: str
    config: ConfigRef
    pipeline_execution_arn: str
    approved: bool
    decision: dict[str, Any]
    code: dict[str, Any]  # the run's TrainingCode: images, code bundle, entry point, hyperparameters
    task: str
    approval_mode: str = "auto"  # manual: a passing candidate is registered PendingManualApproval
    approval: PromotionRules | None = None  # to judge the candidate again when the approved version moved meanwhile


class PlanSegmentsStep(BaseModel):
    step: Literal["plan_segments"]
    run_id: str
    model_name: str
    config: ConfigRef


class SummarizeSegmentsStep(BaseModel):
    step: Literal["summarize_segments"]
    run_id: str
    model_name: str
    column: str
    max_concurrency: int
    segments: list[dict[str, Any]]  # the Map's items, each with the status its training run ended in


class StartDeploymentStep(BaseModel):
    """After a training run registered its version: deploy it if it is now the approved one."""

    step: Literal["start_deployment"]
    run_id: str
    model_name: str
    version: int
    status: str  # the version's registry status as registered


class DeployEndpointStep(BaseModel):
    step: Literal["deploy_endpoint"]
    run_id: str
    model_name: str
    version: int
    attempt: str = ""  # the execution's name: a resume deploys again instead of replaying the recorded answer


class CheckEndpointStep(BaseModel):
    step: Literal["check_endpoint"]
    run_id: str
    model_name: str
    version: int
    deployment: dict[str, Any]  # deploy_endpoint's answer
    attempt: str = ""
    check: int = 0  # which look at the endpoint: each is a new question, never a recorded answer


TrainingStepRequest = Annotated[
    LoadConfigStep | EvaluateStep | RegisterStep | PlanSegmentsStep | SummarizeSegmentsStep | StartDeploymentStep
    | DeployEndpointStep | CheckEndpointStep,
    Field(discriminator="step"),
]
training_step_requests: TypeAdapter[Any] = TypeAdapter(TrainingStepRequest)
