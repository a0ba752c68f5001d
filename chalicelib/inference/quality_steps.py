"""The quality run's Lambda steps: what the quality pipeline reads, and the verdict on what it measured."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.errors import NotFoundError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.schema import ModelConfig
from chalicelib.inference.plan import INFERENCE_TIMEOUT_SECONDS
from chalicelib.inference.quality import (
    MAX_PREDICTION_RUNS,
    NoStoredPredictionsError,
    judge,
    predictions_manifest,
    quality_notice,
    quality_spec,
    retraining_request,
)
from chalicelib.inference.requests import PrepareStep, QualityStep
from chalicelib.inference.steps import MAX_SUMMARY_BYTES, config_of, pipeline_output
from chalicelib.shared import pipeline_runs
from chalicelib.shared.images import processing_image
from chalicelib.shared.pipeline_runs import run_prefix, store_run_spec
from chalicelib.shared.port_roles import InferencePorts


def prepare_quality(request: PrepareStep, ports: InferencePorts, approved: VersionRecord, config: ModelConfig) -> dict[str, Any]:
    """The quality pipeline's inputs: the labels, and a manifest of the version's stored prediction files."""
    labels = request.catalogue_uri  # a quality run's data is its labels file
    if not labels:
        raise ValueError(f"quality run {request.run_id} names no labels file (catalogue_uri)")
    runs = ports.prediction_runs.newest(request.model_name, approved.version, MAX_PREDICTION_RUNS)
    parts = [key for run in runs for key in _prediction_files(ports, request.model_name, run)]
    if not parts:
        raise NoStoredPredictionsError(
            f"model {request.model_name!r} version {approved.version} has no loaded predictions to judge the labels "
            f"{labels} against: let a daily or monthly run (or a request under configs/infer/) load some, "
            "then drop the labels again"
        )
    manifest_key = f"{run_prefix(request.model_name, request.run_id)}/quality-input/predictions.manifest"
    ports.s3.put_json(ports.artifact_bucket, manifest_key, predictions_manifest(ports.artifact_bucket, request.model_name, parts))
    spec = quality_spec(config, request.run_id, approved.version, runs)
    parameters = pipeline_runs.pipeline_parameters({
        "ModelName": request.model_name,
        "RunId": request.run_id,
        "RunSpecUri": store_run_spec(ports.s3, ports.artifact_bucket, request.model_name, request.run_id, spec),
        "ProcessingImage": processing_image(ports.region),
        "LabelsUri": labels,
        "PredictionsManifestUri": f"s3://{ports.artifact_bucket}/{manifest_key}",
    })
    return {
        "pipeline_name": ports.quality_pipeline,
        "pipeline_parameters": parameters,
        "pipeline_display_name": pipeline_runs.pipeline_display_name(request.run_id),
        "pipeline_client_token": pipeline_runs.pipeline_client_token("quality", request.run_id, parameters),
        "callback_timeout_seconds": request.callback_timeout_seconds or INFERENCE_TIMEOUT_SECONDS,
        "window": {"since": "", "until": ""},
        "task": config.task,
        "model_version": approved.version,
        "model_package_arn": approved.model_package_arn,
    }


def _prediction_files(ports: InferencePorts, model_name: str, run_id: str) -> list[str]:
    """The prediction files a loaded run of the model's COPY manifest names (as keys in the artifact bucket)."""
    try:
        manifest = ports.s3.read_json(
            ports.artifact_bucket, f"{run_prefix(model_name, run_id)}/predictions/manifest.json", MAX_SUMMARY_BYTES,
        )
    except NotFoundError:
        return []  # its outputs were deleted (a lifecycle rule): nothing to match there
    prefix = f"s3://{ports.artifact_bucket}/"
    return [entry["url"].removeprefix(prefix) for entry in manifest.get("entries", []) if entry["url"].startswith(prefix)]


def judge_quality(request: QualityStep, ports: InferencePorts) -> dict[str, Any]:
    """Judge the labels' metrics against the version's evaluation at training; alert, and retrain if the config asks."""
    approved = ports.models.version(request.model_name, request.model_version)
    if approved is None:
        raise NotFoundError(f"model {request.model_name!r} has no version {request.model_version} in the models table")
    config = config_of(ports, approved)
    key = f"{run_prefix(request.model_name, request.run_id)}/quality/metrics.json"
    measured = pipeline_output(ports, key)
    verdict = judge(config, measured, approved.metrics)
    retraining = None
    if verdict[0] and config.monitoring.retrain_on_quality_drop:
        retraining = retraining_request(approved.config, request.model_name, request.run_id)
        ports.workflows.start(ports.training_machine, retraining.run_id, retraining.model_dump(mode="json"))
    notice = quality_notice(
        request.run_id, config, request.model_version, measured, verdict, f"s3://{ports.artifact_bucket}/{key}",
        retraining.run_id if retraining else None,
    )
    return {"dropped": notice.dropped, "metric": notice.metric, "value": notice.value,
            "notification": notice.model_dump(mode="json")}
