"""What a state machine's Lambda step answers, as the workflow reads it.

Each step's use case returns a dict that its StepResult model validates at the
Lambda's boundary (chalicelib/shared/steps.py): a step that no longer answers a
field the state machine reads fails there, naming it, instead of in a later
state. The ASL builder (mlrelay/asl/builder.py) makes each Lambda state's
ResultSelector from the same model's fields, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class StepResult(BaseModel):
    """The fields a workflow reads from a step's answer; the answer may hold more (kept as they are)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @classmethod
    def fields_read(cls) -> dict[str, str]:
        """{field: its path in the answer}, for the state's ResultSelector."""
        return {name: f".{name}" for name in cls.model_fields}

    @classmethod
    def checked(cls, answer: dict[str, Any]) -> dict[str, Any]:
        """The use case's answer, once it holds every field the workflow reads."""
        return cls.model_validate(answer).model_dump(mode="json")


class PipelineRunSettings(StepResult):
    """What a workflow's pipeline states read from its settings (mlrelay/asl/builder.py, run_pipeline)."""

    pipeline_name: str
    pipeline_parameters: list[dict[str, Any]]
    pipeline_display_name: str
    pipeline_client_token: str
    callback_timeout_seconds: int
