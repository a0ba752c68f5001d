"""Lambda steps of the training workflow, dispatched by the state's `step` field."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib import settings
from chalicelib.aws.errors import NotFoundError
from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.aws.s3 import S3Objects
from chalicelib.aws.sagemaker import ModelRegistry, Pipelines
from chalicelib.config.parsing import MAX_CONFIG_BYTES, parse_config
from chalicelib.config.schema import ApprovalCriteria
from chalicelib.messages import ConfigRef, TrainingOutcome
from chalicelib.promotion import ModelMetrics, decide_promotion
from chalicelib.step_ledger import recorded
from chalicelib.training_plan import training_settings

MAX_METRICS_BYTES = 1024 * 1024


class LoadConfigStep(BaseModel):
    step: Literal["load_config"]
    run_id: str
    config: ConfigRef
    callback_timeout_seconds: int | None = None


class EvaluateStep(BaseModel):
    step: Literal["evaluate"]
    run_id: str
    model_name: str
    approval: ApprovalCriteria


class RegisterStep(BaseModel):
    step: Literal["register"]
    run_id: str
    model_name: str
    config: ConfigRef
    pipeline_execution_arn: str
    approved: bool
    decision: dict[str, Any]


class TrainingStepEvent(BaseModel):
    request: Annotated[LoadConfigStep | EvaluateStep | RegisterStep, Field(discriminator="step")]


def handle_training_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = TrainingStepEvent.model_validate({"request": event}).request
    if isinstance(request, LoadConfigStep):
        return recorded(event, lambda: load_training_settings(request))
    if isinstance(request, EvaluateStep):
        return recorded(event, lambda: evaluate_candidate(request))
    return recorded(event, lambda: register_model(request))


def load_training_settings(request: LoadConfigStep) -> dict[str, Any]:
    """The exact config version that started the run, resolved with its defaults."""
    ref = request.config
    content = S3Objects().read(ref.bucket, ref.key, ref.version_id, MAX_CONFIG_BYTES)
    config = parse_config(content.data, ref.key)
    return training_settings(config, request.run_id, request.callback_timeout_seconds)


def evaluate_candidate(request: EvaluateStep) -> dict[str, Any]:
    """Compare the run's metrics.json with the approved model's and decide."""
    bucket = settings.artifact_bucket()
    key = f"runs/{request.run_id}/evaluation/metrics.json"
    try:
        report = json.loads(S3Objects().read(bucket, key, None, MAX_METRICS_BYTES).data)
    except NotFoundError as err:
        raise NotFoundError(f"the pipeline wrote no metrics for run {request.run_id} (s3://{bucket}/{key})") from err
    approved = ModelVersions(settings.models_table()).approved(request.model_name)
    baseline = ModelMetrics.from_report(approved.metrics) if approved else None
    decision = decide_promotion(ModelMetrics.from_report(report), baseline, request.approval)
    return {
        "promote": decision.promote,
        "summary": decision.summary,
        "reasons": decision.reasons,
        "primary_metric": decision.primary_metric,
        "candidate_score": decision.candidate_score,
        "baseline_score": decision.baseline_score,
        "baseline_version": approved.version if approved else None,
        "deltas": decision.deltas,
        "metrics": report,
    }


def register_model(request: RegisterStep) -> dict[str, Any]:
    """Register the model version (Approved or Rejected) and move the pointer on approval."""
    versions = ModelVersions(settings.models_table())
    record = versions.version_for_run(request.model_name, request.run_id)  # a retried step registers once
    if record is None:
        record = _new_version(request, versions)
    if record.status == "Approved":
        versions.point_to(record)
    decision = request.decision
    outcome = TrainingOutcome(
        kind="model_promoted" if record.status == "Approved" else "model_rejected",
        run_id=request.run_id,
        model_name=request.model_name,
        version=record.version,
        model_package_arn=record.model_package_arn,
        primary_metric=decision["primary_metric"],
        score=decision["candidate_score"],
        baseline_version=decision.get("baseline_version"),
        baseline_score=decision.get("baseline_score"),
        deltas=decision.get("deltas", {}),
        reasons=decision["reasons"],
        occurred_at=datetime.now(timezone.utc),
    )
    return {
        "version": record.version,
        "status": record.status,
        "model_package_arn": record.model_package_arn,
        "notification": outcome.model_dump(mode="json"),
    }


def _new_version(request: RegisterStep, versions: ModelVersions) -> VersionRecord:
    registry = ModelRegistry()
    registry.ensure_group(request.model_name, f"mlrelay model {request.model_name}")
    decision = request.decision
    arn = registry.register(
        group=request.model_name,
        approved=request.approved,
        description=decision["summary"],
        container=_model_container(request.pipeline_execution_arn, request.run_id),
        metadata={
            "run_id": request.run_id,
            "primary_metric": decision["primary_metric"],
            "score": f"{decision['candidate_score']:.6f}",
            "accuracy": f"{decision['metrics']['accuracy']:.6f}",
        },
    )
    record = VersionRecord(
        model_name=request.model_name,
        version=int(arn.rsplit("/", 1)[-1]),
        status="Approved" if request.approved else "Rejected",
        run_id=request.run_id,
        model_package_arn=arn,
        metrics=decision["metrics"],
        decision={k: v for k, v in decision.items() if k != "metrics"},
        created_at=datetime.now(timezone.utc).isoformat(),
        config=request.config.model_dump(mode="json"),
    )
    versions.put(record)
    return record


def _model_container(pipeline_execution_arn: str, run_id: str) -> dict[str, Any]:
    """The serving container of the model the pipeline trained (image, code and artifact)."""
    pipelines = Pipelines()
    model_step = next(s for s in pipelines.definition(pipeline_execution_arn)["Steps"] if s["Type"] == "Model")
    container = model_step["Arguments"]["PrimaryContainer"]
    train = next(s for s in pipelines.steps(pipeline_execution_arn) if "TrainingJob" in s.get("Metadata", {}))
    job_name = train["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    model_data = f"s3://{settings.artifact_bucket()}/runs/{run_id}/model/{job_name}/output/model.tar.gz"
    return {"Image": container["Image"], "ModelDataUrl": model_data, "Environment": container.get("Environment", {})}
