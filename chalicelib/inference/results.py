"""What the inference workflow's Lambda steps answer (chalicelib/shared/step_results.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.shared.step_results import PipelineRunSettings, StepResult


class InferenceSettings(PipelineRunSettings):
    """prepare: the pipeline to run with its parameters, the window predicted, and the version predicting."""

    window: dict[str, Any]
    model_version: int
    model_package_arn: str


class MonitoringVerdict(StepResult):
    """monitoring: the rows' statement, and whether to alert, and whether to load at all."""

    statement_id: Any
    blocked: bool
    notify: bool
    notification: Any
    cause: Any


class LoadStarted(StepResult):
    """load: the load's statement, and the rows the transform produced."""

    statement_id: str
    expected_rows: int


class CountStarted(StepResult):
    """count: the row count's statement."""

    statement_id: str


class Verified(StepResult):
    """verify: the rows the table holds for the run, and the notice."""

    rows_loaded: int
    notification: dict[str, Any]


class QualityVerdict(StepResult):
    """quality: the model's measured quality against its training evaluation."""

    dropped: bool
    metric: str
    value: Any
    notification: dict[str, Any]


RESULTS: dict[str, type[StepResult]] = {
    "prepare": InferenceSettings, "monitoring": MonitoringVerdict, "load": LoadStarted, "count": CountStarted,
    "verify": Verified, "quality": QualityVerdict,
}
