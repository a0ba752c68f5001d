"""What the training, segments and deploy workflows' Lambda steps answer (chalicelib/shared/step_results.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.shared.step_results import PipelineRunSettings, StepResult


class TrainingSettings(PipelineRunSettings):
    """load_config: the resolved settings the state machine carries from step to step (taken whole)."""

    model_name: str
    task: str
    model_type: str
    code: dict[str, Any]
    approval: dict[str, Any]
    notifications: dict[str, Any]


class Decision(StepResult):
    """evaluate: the candidate judged against the approved version."""

    promote: bool
    summary: str
    reasons: list[str]
    primary_metric: str
    lower_is_better: bool
    candidate_score: Any
    baseline_score: Any
    baseline_version: int | None
    deltas: dict[str, Any]
    metrics: dict[str, Any]


class Registration(StepResult):
    """register: the version as registered, and the notice of it."""

    version: int
    status: str
    model_package_arn: str
    notification: dict[str, Any]


class SegmentsPlan(StepResult):
    """plan_segments: one item per segment, and how many train at once."""

    segments: list[dict[str, Any]]
    max_concurrency: int
    column: Any  # the segment column (None when the config lists its segments)


class SegmentsSummary(SegmentsPlan):
    """summarize_segments: the plan for the next attempt, how many failed, and the notice."""

    failed: int
    notification: dict[str, Any]
    table: Any


class DeploymentStarted(StepResult):
    """start_deployment: the deploy run started for the version (started False: it is not served)."""

    started: bool
    run_id: str


class DeploymentPlanned(StepResult):
    """deploy_endpoint: the endpoint, config and model the version is served by, and what was asked of SageMaker."""

    deployment: dict[str, Any]


class DeploymentProgress(StepResult):
    """check_endpoint: in_service, in_progress or superseded, and how long to wait before the next check."""

    state: str
    message: str
    wait_seconds: int


RESULTS: dict[str, type[StepResult]] = {
    "load_config": TrainingSettings, "evaluate": Decision, "register": Registration,
    "plan_segments": SegmentsPlan, "summarize_segments": SegmentsSummary,
    "start_deployment": DeploymentStarted, "deploy_endpoint": DeploymentPlanned, "check_endpoint": DeploymentProgress,
}
