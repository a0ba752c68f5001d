"""What a training run asks of the SageMaker pipeline: pure, from the config and the run id."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config.schema import ModelConfig
from chalicelib.shared import pipeline_runs
from chalicelib.shared.pipeline_runs import PIPELINE_OVERHEAD_SECONDS, pipeline_display_name


def training_settings(config: ModelConfig, run_id: str, callback_timeout_seconds: int | None) -> dict[str, Any]:
    """The resolved settings the training state machine carries from step to step."""
    parameters = pipeline_parameters(config, run_id)
    return {
        "model_name": config.model_name,
        "model_type": config.model.type,
        "hyperparameters": config.model.hyperparameters.model_dump(mode="json"),
        "data": config.data.model_dump(mode="json"),
        "training": config.training.model_dump(mode="json"),
        "approval": config.approval.model_dump(mode="json"),
        "pipeline_parameters": parameters,
        "pipeline_display_name": pipeline_display_name(run_id),
        "pipeline_client_token": pipeline_runs.pipeline_client_token("training", run_id, parameters),
        "callback_timeout_seconds": callback_timeout_seconds
        or config.training.max_runtime_minutes * 60 + PIPELINE_OVERHEAD_SECONDS,
    }


def pipeline_parameters(config: ModelConfig, run_id: str) -> list[dict[str, str]]:
    return pipeline_runs.pipeline_parameters({
        "RunId": run_id,
        "InputDataUri": config.data.uri,
        "LabelColumn": config.data.label_column,
        "FeatureColumns": ",".join(config.data.feature_columns),
        "ValidationSplit": str(config.data.validation_split),
        "ModelType": config.model.type,
        "Hyperparameters": json.dumps(config.model.hyperparameters.model_dump(mode="json"), sort_keys=True),
        "TrainingInstanceType": config.training.instance_type,
    })


def model_container(
    pipeline_definition: dict[str, Any], pipeline_steps: list[dict[str, Any]], bucket: str, run_id: str,
) -> dict[str, Any]:
    """The serving container of the model a training pipeline execution trained (image, code and artifact)."""
    model_step = next(s for s in pipeline_definition["Steps"] if s["Type"] == "Model")
    container = model_step["Arguments"]["PrimaryContainer"]
    train = next(s for s in pipeline_steps if "TrainingJob" in s.get("Metadata", {}))
    job_name = train["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    model_data = f"s3://{bucket}/runs/{run_id}/model/{job_name}/output/model.tar.gz"
    return {"Image": container["Image"], "ModelDataUrl": model_data, "Environment": container.get("Environment", {})}
