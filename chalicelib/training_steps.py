"""Lambda steps of the training workflow, dispatched by the state's `step` field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.aws.s3 import S3Objects
from chalicelib.config.parsing import MAX_CONFIG_BYTES, parse_config
from chalicelib.messages import ConfigRef


class LoadConfigStep(BaseModel):
    step: Literal["load_config"]
    run_id: str
    config: ConfigRef


def handle_training_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = LoadConfigStep.model_validate(event)
    return load_training_settings(request.config)


def load_training_settings(ref: ConfigRef) -> dict[str, Any]:
    """The exact config version that started the run, resolved with its defaults."""
    content = S3Objects().read(ref.bucket, ref.key, ref.version_id, MAX_CONFIG_BYTES)
    config = parse_config(content.data, ref.key)
    return {
        "model_name": config.model_name,
        "model_type": config.model.type,
        "hyperparameters": config.model.hyperparameters.model_dump(mode="json"),
        "data": config.data.model_dump(mode="json"),
        "training": config.training.model_dump(mode="json"),
        "approval": config.approval.model_dump(mode="json"),
    }
