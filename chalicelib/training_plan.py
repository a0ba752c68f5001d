"""What a training run asks of the SageMaker pipeline: pure, from the config and the run id."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from chalicelib.config.schema import ModelConfig

# Split, transform and evaluate run on top of the training job's own limit.
PIPELINE_OVERHEAD_SECONDS = 1800
_DISPLAY_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")


def training_settings(config: ModelConfig, run_id: str, callback_timeout_seconds: int | None) -> dict[str, Any]:
    """The resolved settings the training state machine carries from step to step."""
    return {
        "model_name": config.model_name,
        "model_type": config.model.type,
        "hyperparameters": config.model.hyperparameters.model_dump(mode="json"),
        "data": config.data.model_dump(mode="json"),
        "training": config.training.model_dump(mode="json"),
        "approval": config.approval.model_dump(mode="json"),
        "pipeline_parameters": pipeline_parameters(config, run_id),
        "pipeline_display_name": pipeline_display_name(run_id),
        "pipeline_client_token": pipeline_client_token(run_id, pipeline_parameters(config, run_id)),
        "callback_timeout_seconds": callback_timeout_seconds
        or config.training.max_runtime_minutes * 60 + PIPELINE_OVERHEAD_SECONDS,
    }


def pipeline_parameters(config: ModelConfig, run_id: str) -> list[dict[str, str]]:
    """StartPipelineExecution's PipelineParameters (every value is a string there)."""
    values = {
        "RunId": run_id,
        "InputDataUri": config.data.uri,
        "LabelColumn": config.data.label_column,
        "FeatureColumns": ",".join(config.data.feature_columns),
        "ValidationSplit": str(config.data.validation_split),
        "ModelType": config.model.type,
        "Hyperparameters": json.dumps(config.model.hyperparameters.model_dump(mode="json"), sort_keys=True),
        "TrainingInstanceType": config.training.instance_type,
    }
    return [{"Name": name, "Value": value} for name, value in values.items()]


def pipeline_display_name(run_id: str) -> str:
    # Display names allow letters, digits and single hyphens, 82 characters.
    return re.sub("-+", "-", _DISPLAY_UNSAFE.sub("-", run_id)).strip("-")[:82]


def pipeline_client_token(run_id: str, parameters: list[dict[str, str]]) -> str:
    # The same run with the same parameters starts the same pipeline execution, however often
    # the state is retried; a run resumed with a fixed config starts a new one (cached steps are reused).
    canonical = json.dumps(parameters, sort_keys=True)
    return hashlib.sha256(f"training-pipeline\x1f{run_id}\x1f{canonical}".encode()).hexdigest()[:64]
