"""What a training run asks of SageMaker: pure, from the config, the run id and the stack's base pipeline.

The built-in models are code like any team's: a bundle in the stack's bucket
(the base pipeline's CodeUri default) with `--algorithm` and the estimator's
parameters as hyperparameters. A pipeline parameter cannot carry free-form
hyperparameters, so a run uses a copy of the base pipeline with them written
into its Train step, named by their digest: the same hyperparameters, the
same pipeline (and SageMaker's step cache across runs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.config.judging import promotion_rules
from chalicelib.config.schema import GradientBoosting, LogisticRegression, ModelConfig, RandomForest
from chalicelib.shared import pipeline_runs
from chalicelib.shared.images import default_version, image_uri
from chalicelib.shared.pipeline_runs import PIPELINE_OVERHEAD_SECONDS, TRAIN_STEP, pipeline_display_name

BUILTIN_FRAMEWORK, BUILTIN_VERSION = "sklearn", "1.2-1"


class SourceNotUploadedError(ValueError):
    """The config names a local folder, which SageMaker cannot read."""


@dataclass(frozen=True)
class TrainingCode:
    """What trains the model and serves it: the images, the code bundle and how to run it."""

    framework: str
    framework_version: str
    training_image: str
    serving_image: str
    code_uri: str
    entry_point: str
    hyperparameters: dict[str, str | int | float | bool]
    builtin: bool


@dataclass(frozen=True)
class RunInputs:
    """What the table and the code bundle held when the run read them (S3Objects.identity), or "unknown"."""

    table: str
    code: str


def resolve_code(config: ModelConfig, region: str, builtin_code_uri: str) -> TrainingCode:
    """Which images, code and hyperparameters a config trains with, in `region`."""
    instance = config.training.instance_type
    model = config.model
    if isinstance(model, GradientBoosting | RandomForest | LogisticRegression):
        algorithm = model.type.removeprefix("sklearn.")
        hyperparameters = {"algorithm": algorithm, **{k: v for k, v in model.hyperparameters.model_dump().items() if v is not None}}
        image = image_uri(BUILTIN_FRAMEWORK, BUILTIN_VERSION, "training", region, instance)
        serving = image_uri(BUILTIN_FRAMEWORK, BUILTIN_VERSION, "inference", region, instance)
        return TrainingCode(BUILTIN_FRAMEWORK, BUILTIN_VERSION, image, serving, builtin_code_uri, "train.py", hyperparameters, True)
    if model.code_uri is None:
        raise SourceNotUploadedError(
            f"model.source_dir {model.source_dir!r} is a folder on someone's machine: upload the config with "
            "`mlrelay local drop` (or `mlrelay submit`), which packs the folder and sets model.code_uri"
        )
    if model.framework == "custom":
        training = serving = str(model.image_uri)
        version = model.framework_version or "custom"
    else:
        version = model.framework_version or default_version(model.framework)
        training = model.image_uri or image_uri(model.framework, version, "training", region, instance)
        serving = model.serving_image_uri or image_uri(model.framework, version, "inference", region, instance)
    return TrainingCode(model.framework, version, training, serving, model.code_uri, model.entry_point, dict(model.hyperparameters), False)


def run_spec(config: ModelConfig, segment: dict[str, str] | None = None) -> dict[str, Any]:
    """The run's spec.json (pipeline_runs.spec_key), read by the Split and Evaluate steps: column names travel in this
    file, never in parameters.

    `segment` ({column, value}): a model of a family trains on its segment's rows only.
    """
    data = config.data
    return {
        "task": config.task, "label_column": data.label_column, "feature_columns": list(data.feature_columns),
        "validation_split": data.validation_split, "seed": 0, "monitoring": config.monitoring.resolved(), "segment": segment,
        "layout": data.layout,
    }



def with_hyperparameters(definition: dict[str, Any], hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The base definition with the code's hyperparameters in its Train step, JSON-encoded as the SDK writes them."""
    copy = json.loads(json.dumps(definition))
    _train_step(copy)["Arguments"]["HyperParameters"].update(
        {name: json.dumps(value) for name, value in sorted(hyperparameters.items())}
    )
    return copy


def with_validation_channel(definition: dict[str, Any], channel: str) -> dict[str, Any]:
    """The definition with the Train step's held-out rows in the channel `channel` (data.validation_channel): a channel's
    name is no pipeline parameter, so a model that names another gets a copy of its own."""
    copy = json.loads(json.dumps(definition))
    for source in _train_step(copy)["Arguments"]["InputDataConfig"]:
        if source["ChannelName"] == "validation":
            source["ChannelName"] = channel
    return copy


def _train_step(definition: dict[str, Any]) -> dict[str, Any]:
    train = next((s for s in definition["Steps"] if s["Name"] == TRAIN_STEP), None)
    if train is None:
        raise ValueError(f"the base training pipeline has no {TRAIN_STEP} step")
    step: dict[str, Any] = train
    return step


def default_code_uri(definition: dict[str, Any]) -> str:
    """The built-in models' bundle: the base pipeline's CodeUri default (the stack uploads it there)."""
    return next(str(p["DefaultValue"]) for p in definition["Parameters"] if p["Name"] == "CodeUri")


def training_settings(
    config: ModelConfig, model_name: str, run_id: str, callback_timeout_seconds: int | None, code: TrainingCode,
    pipeline_name: str, processing_image: str, region: str, spec_uri: str, inputs: RunInputs, table_uri: str,
) -> dict[str, Any]:
    """The resolved settings the training state machine carries from step to step; `model_name` is the run's model
    (a segment's own in a family), under whose runs/<model>/ the pipeline writes; `table_uri`: the table it reads
    (its pinned copy, chalicelib/shared/pinning.py)."""
    parameters = pipeline_runs.pipeline_parameters({
        "ModelName": model_name,
        "RunId": run_id,
        "RunSpecUri": spec_uri,
        "InputDataUri": table_uri,
        "ProcessingImage": processing_image,
        "TrainingImage": code.training_image,
        "ServingImage": code.serving_image,
        "CodeUri": code.code_uri,
        "EntryPoint": code.entry_point,
        "Region": region,
        "TrainingInstanceType": config.training.instance_type,
        "TrainingInstanceCount": str(config.training.instance_count),
        "MaxRuntimeSeconds": str(config.training.max_runtime_minutes * 60),
        "InputDataVersion": inputs.table,
        "CodeVersion": inputs.code,
    })
    return {
        "model_name": config.model_name,
        "task": config.task,
        "model_type": config.model.type if code.builtin else f"{code.framework} {code.framework_version}",  # type: ignore[union-attr]
        "code": asdict(code),
        "approval": promotion_rules(config).model_dump(),
        "notifications": config.notifications.model_dump(mode="json"),
        "pipeline_name": pipeline_name,
        "pipeline_parameters": parameters,
        "pipeline_display_name": pipeline_display_name(run_id),
        "pipeline_client_token": pipeline_runs.pipeline_client_token(pipeline_name, run_id, parameters),
        "callback_timeout_seconds": callback_timeout_seconds or config.training.max_runtime_minutes * 60 + PIPELINE_OVERHEAD_SECONDS,
    }


def model_data_url(pipeline_steps: list[dict[str, Any]], bucket: str, model_name: str, run_id: str) -> str:
    """Where the Train step's job wrote model.tar.gz (the pipeline's output path, per training job)."""
    train = next(s for s in pipeline_steps if "TrainingJob" in s.get("Metadata", {}))
    return pipeline_runs.model_artifact_uri(bucket, model_name, run_id, train["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1])


def serving_container(code: dict[str, Any], model_data: str, region: str) -> dict[str, Any]:
    """The model package's container: the same image, code and environment the pipeline's CreateModel used."""
    return {
        "Image": code["serving_image"],
        "ModelDataUrl": model_data,
        "Environment": {
            "SAGEMAKER_PROGRAM": code["entry_point"], "SAGEMAKER_SUBMIT_DIRECTORY": code["code_uri"],
            "SAGEMAKER_REGION": region, "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        },
    }

