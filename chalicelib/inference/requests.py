"""What the inference functions are given: the schedule's tick, the hourly check, and each Lambda step
of the state machine (one model per step, told apart by `step`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class ScheduleFired(BaseModel):
    """What the schedule rule's input transformer sends (hourly: the tick that starts segments' daily runs at their local hour)."""

    mode: Literal["daily", "monthly", "hourly"]
    scheduled_for: datetime


class FreshnessCheck(BaseModel):
    checked_at: datetime


class RunRef(BaseModel):
    run_id: str
    model_name: str
    mode: Literal["daily", "monthly", "on_demand", "quality"]
    scheduled_for: datetime
    predictions_table: str | None = None  # "schema.table" an on-demand request named; None: the stage's


class PrepareStep(RunRef):
    step: Literal["prepare"]
    catalogue_uri: str | None = None  # mode quality: the labels file
    callback_timeout_seconds: int | None = None


class LoadStep(RunRef):
    step: Literal["load"]
    model_version: int
    execution: str = ""  # the execution's name: a resumed run submits anew, a retry within one does not


class MonitoringStep(RunRef):
    step: Literal["monitoring"]
    model_version: int
    execution: str = ""


class QualityStep(RunRef):
    step: Literal["quality"]
    model_version: int


class CountStep(RunRef):
    step: Literal["count"]
    execution: str = ""


class VerifyStep(RunRef):
    step: Literal["verify"]
    model_version: int
    count_statement_id: str
    window_until: str = ""


InferenceStepRequest = Annotated[
    PrepareStep | MonitoringStep | QualityStep | LoadStep | CountStep | VerifyStep, Field(discriminator="step"),
]
inference_step_requests: TypeAdapter[Any] = TypeAdapter(InferenceStepRequest)
