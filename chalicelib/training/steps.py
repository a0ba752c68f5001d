"""The training workflow's Lambda steps: resolve the config, judge the candidate, register it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import read_config
from chalicelib.shared.images import processing_image
from chalicelib.shared.messages import TrainingOutcome
from chalicelib.shared.observability import logger
from chalicelib.shared.pipeline_runs import baseline_uri, store_run_spec
from chalicelib.shared.ports import Ports
from chalicelib.training.plan import (
    RunInputs,
    default_code_uri,
    model_data_url,
    pipeline_name_for,
    resolve_code,
    run_spec,
    serving_container,
    training_settings,
    with_hyperparameters,
)
from chalicelib.training.promotion import ModelMetrics, decide_promotion
from chalicelib.training.requests import EvaluateStep, LoadConfigStep, RegisterStep

MAX_METRICS_BYTES = 1024 * 1024
_OUTCOME_KINDS = {"Approved": "model_promoted", "Rejected": "model_rejected", "PendingManualApproval": "model_pending_approval"}


def load_training_settings(request: LoadConfigStep, ports: Ports) -> dict[str, Any]:
    """The exact config version that started the run, resolved: its code, images, pipeline and rules."""
    ref = request.config
    config = read_config(ports.s3, ref.bucket, ref.key, ref.version_id)
    base = ports.pipelines.describe(ports.training_pipeline)
    code = resolve_code(config, ports.region, default_code_uri(base.definition))
    definition = with_hyperparameters(base.definition, code.hyperparameters)
    pipeline = pipeline_name_for(ports.training_pipeline, code.hyperparameters, definition)
    if pipeline != ports.training_pipeline:
        description = f"mlrelay training with the hyperparameters of {config.model_name} (from {ports.training_pipeline})"
        ports.pipelines.ensure(pipeline, definition, base.role_arn, description)
    segment = ref.segment.model_dump() if ref.segment else None
    spec_uri = store_run_spec(ports.s3, ports.artifact_bucket, request.run_id, run_spec(config, segment))
    inputs = RunInputs(table=_identity(ports, config.data.uri), code=_identity(ports, code.code_uri))
    return training_settings(
        config, request.run_id, request.callback_timeout_seconds, code, pipeline, processing_image(ports.region), ports.region, spec_uri,
        inputs,
    )


def _identity(ports: Ports, uri: str) -> str:
    """What `uri` holds now; "unknown" (the run goes on, a resume then cannot tell a change) when this role may not look."""
    try:
        return ports.s3.identity(uri)
    except AwsError as err:
        logger.warning("cannot tell what a run input holds", extra={"uri": uri, "error": str(err)})
        return "unknown"


def evaluate_candidate(request: EvaluateStep, ports: Ports) -> dict[str, Any]:
    """Compare the run's metrics.json with the approved model's and decide."""
    key = f"runs/{request.run_id}/evaluation/metrics.json"
    try:
        report = ports.s3.read_json(ports.artifact_bucket, key, MAX_METRICS_BYTES)
    except NotFoundError as err:
        raise NotFoundError(f"the pipeline wrote no metrics for run {request.run_id} (s3://{ports.artifact_bucket}/{key})") from err
    approved = ports.models.approved(request.model_name)
    baseline = ModelMetrics.from_report(approved.metrics) if approved else None
    decision = decide_promotion(ModelMetrics.from_report(report), baseline, request.approval)
    return {
        "promote": decision.promote,
        "summary": decision.summary,
        "reasons": decision.reasons,
        "primary_metric": decision.primary_metric,
        "lower_is_better": request.approval.lower_is_better,
        "candidate_score": decision.candidate_score,
        "baseline_score": decision.baseline_score,
        "baseline_version": approved.version if approved else None,
        "deltas": decision.deltas,
        "metrics": report,
    }


def register_model(request: RegisterStep, ports: Ports) -> dict[str, Any]:
    """Register the model version (Approved or Rejected) and move the pointer on approval."""
    record = ports.models.version_for_run(request.model_name, request.run_id)  # a retried step registers once
    if record is None:
        record = _new_version(request, ports)
    if record.status == "Approved":
        ports.models.point_to(record)
    decision = request.decision
    outcome = TrainingOutcome(
        kind=_OUTCOME_KINDS[record.status],
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
        occurred_at=datetime.now(UTC),
    )
    return {
        "version": record.version,
        "status": record.status,
        "model_package_arn": record.model_package_arn,
        "notification": outcome.model_dump(mode="json"),
    }


def registration_status(approved: bool, approval_mode: str) -> str:
    """What the registry records for a judged candidate: a passing one waits for a person in manual mode."""
    if not approved:
        return "Rejected"
    return "PendingManualApproval" if approval_mode == "manual" else "Approved"


def _new_version(request: RegisterStep, ports: Ports) -> VersionRecord:
    ports.registry.ensure_group(request.model_name, f"mlrelay model {request.model_name}")
    decision, code = request.decision, request.code
    status = registration_status(request.approved, request.approval_mode)
    created_at = datetime.now(UTC).isoformat()
    model_data = model_data_url(ports.pipelines.steps(request.pipeline_execution_arn), ports.artifact_bucket, request.run_id)
    # the exact bytes this version is: inference checks them before it uses the artifact (chalicelib/inference/plan.py)
    artifact = ports.s3.fingerprint(model_data)
    arn = ports.registry.register(
        model_name=request.model_name,
        status=status,
        description=decision["summary"],
        container=serving_container(code, model_data, ports.region),
        metadata={
            "run_id": request.run_id,
            "task": request.task,
            "metric": decision["primary_metric"],
            "score": f"{decision['candidate_score']:.6f}",
            "framework": f"{code['framework']} {code['framework_version']}",
            "code_uri": code["code_uri"],
        },
        documents=baseline_uri(ports.artifact_bucket, request.run_id),
    )
    record = VersionRecord(
        model_name=request.model_name,
        version=int(arn.rsplit("/", 1)[-1]),
        status=status,
        run_id=request.run_id,
        model_package_arn=arn,
        metrics=decision["metrics"],
        decision={k: v for k, v in decision.items() if k != "metrics"},
        created_at=created_at,
        config=request.config.model_dump(mode="json"),
        code=code,
        task=request.task,
        history=[{"at": created_at, "actor": "mlrelay (the training run's rules)", "action": "register", "from": "",
                  "to": status, "reason": decision["summary"], "source": "mlrelay"}],
        artifact={"uri": artifact.uri, "version_id": artifact.version_id, "sha256": artifact.sha256},
    )
    ports.models.put(record)
    return record
