"""The training workflow's Lambda steps: resolve the config, judge the candidate, register it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.errors import ACCESS_DENIED_CODES, AwsError, NotFoundError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import read_config
from chalicelib.shared.images import processing_image
from chalicelib.shared.messages import ConfigRef, TrainingOutcome
from chalicelib.shared.model_pipelines import ensure_model_pipeline, with_layout
from chalicelib.shared.observability import logger
from chalicelib.shared.pinning import InputTooLargeToPinError, PinnedInput, read_manifest
from chalicelib.shared.pipeline_runs import baseline_uri, run_prefix, store_run_spec
from chalicelib.shared.port_roles import TrainingPorts
from chalicelib.training.lineage import lineage_record, write_index_entry
from chalicelib.training.plan import (
    RunInputs,
    default_code_uri,
    model_data_url,
    resolve_code,
    run_spec,
    serving_container,
    training_settings,
    with_hyperparameters,
    with_validation_channel,
)
from chalicelib.training.promotion import ModelMetrics, PromotionDecision, decide_promotion
from chalicelib.training.requests import EvaluateStep, LoadConfigStep, RegisterStep

MAX_METRICS_BYTES = 1024 * 1024
MAX_JUDGEMENTS = 3  # of one candidate against a pointer that keeps moving, before the step gives up
_OUTCOME_KINDS = {"Approved": "model_promoted", "Rejected": "model_rejected", "PendingManualApproval": "model_pending_approval"}


class PromotionRaceError(RuntimeError):
    """Other runs kept promoting their versions while this one was judged."""


def load_training_settings(request: LoadConfigStep, ports: TrainingPorts) -> dict[str, Any]:
    """The exact config version that started the run, resolved: its code, images, pipeline and rules."""
    ref = request.config
    config = read_config(ports.s3, ref.bucket, ref.key, ref.version_id)
    base = ports.pipelines.describe(ports.training_pipeline)
    code = resolve_code(config, ports.region, default_code_uri(base.definition))
    definition = with_layout(
        with_validation_channel(with_hyperparameters(base.definition, code.hyperparameters), config.data.validation_channel),
        config.data.layout,
    )
    pipeline = ensure_model_pipeline(ports, ports.training_pipeline, definition, base.role_arn, request.model_name, "training")
    segment = ref.segment.model_dump() if ref.segment else None
    spec_uri = store_run_spec(ports.s3, ports.artifact_bucket, request.model_name, request.run_id, run_spec(config, segment))
    table, bundle = _pinned_inputs(ports, ref, config.data.uri, code.code_uri)
    if bundle is not None:  # the model package serves with the code it trained with
        code = replace(code, code_uri=bundle.uri)
    inputs = RunInputs(table=_identity_of(ports, config.data.uri, table), code=_identity_of(ports, code.code_uri, bundle))
    settings = training_settings(
        config, request.model_name, request.run_id, request.callback_timeout_seconds, code, pipeline, processing_image(ports.region),
        ports.region, spec_uri, inputs, table.uri if table else config.data.uri,
    )
    settings["inputs"] = {name: {"source": pin.source, "pinned": pin.uri} for name, pin in (("table", table), ("code", bundle)) if pin}
    if ref.reproduces:  # a reproduction never moves the approved pointer by itself: a person decides
        settings["approval"]["mode"] = "manual"
    return settings


def _pinned_inputs(ports: TrainingPorts, ref: ConfigRef, table_uri: str, code_uri: str) -> tuple[PinnedInput | None, PinnedInput | None]:
    """The copies the run reads (chalicelib/shared/pinning.py): a reproduction's recorded ones, or made now."""
    if ref.reproduces:
        return read_manifest(ports.s3, ref.reproduces.table_uri), read_manifest(ports.s3, ref.reproduces.code_uri)
    return _pin(ports, table_uri, "tables"), _pin(ports, code_uri, "code")


def _pin(ports: TrainingPorts, uri: str, kind: str) -> PinnedInput | None:
    """`uri` copied as it is now; None (the run reads `uri` itself, and its lineage says so) when this role may not
    read it or it is too large to copy before the run starts. Anything else fails the step (a file that changed while
    it was copied: a resume copies what is there then)."""
    try:
        return ports.s3.pin(uri, ports.artifact_bucket, kind)
    except InputTooLargeToPinError as err:
        logger.warning("a run input too large to pin: the run reads it where it is", extra={"uri": uri, "error": str(err)})
        return None
    except AwsError as err:
        if err.code not in ACCESS_DENIED_CODES:
            raise
        logger.warning("cannot pin a run input: the run reads it where it is", extra={"uri": uri, "error": str(err)})
        return None


def _identity_of(ports: TrainingPorts, uri: str, pinned: PinnedInput | None) -> str:
    return pinned.identity if pinned else _identity(ports, uri)


def _identity(ports: TrainingPorts, uri: str) -> str:
    """What `uri` holds now; "unknown" (the run goes on, a resume then cannot tell a change) when this role may not look."""
    try:
        return ports.s3.identity(uri)
    except AwsError as err:
        logger.warning("cannot tell what a run input holds", extra={"uri": uri, "error": str(err)})
        return "unknown"


def evaluate_candidate(request: EvaluateStep, ports: TrainingPorts) -> dict[str, Any]:
    """Compare the run's metrics.json with the approved model's and decide."""
    key = f"{run_prefix(request.model_name, request.run_id)}/evaluation/metrics.json"
    try:
        report = ports.s3.read_json(ports.artifact_bucket, key, MAX_METRICS_BYTES)
    except NotFoundError as err:
        raise NotFoundError(f"the pipeline wrote no metrics for run {request.run_id} (s3://{ports.artifact_bucket}/{key})") from err
    approved = ports.models.approved(request.model_name)
    baseline = ModelMetrics.from_report(approved.metrics) if approved else None
    decision = decide_promotion(ModelMetrics.from_report(report), baseline, request.approval)
    return {**_decision_fields(decision, request.approval.lower_is_better, approved.version if approved else None), "metrics": report}


def _decision_fields(decision: PromotionDecision, lower_is_better: bool, baseline_version: int | None) -> dict[str, Any]:
    """A decision as the workflow carries it to the registration and the notice."""
    return {
        "promote": decision.promote,
        "summary": decision.summary,
        "reasons": decision.reasons,
        "primary_metric": decision.primary_metric,
        "lower_is_better": lower_is_better,
        "candidate_score": decision.candidate_score,
        "baseline_score": decision.baseline_score,
        "baseline_version": baseline_version,
        "deltas": decision.deltas,
    }


def register_model(request: RegisterStep, ports: TrainingPorts) -> dict[str, Any]:
    """Register the model version (Approved or Rejected) and move the pointer on approval.

    The judgement and the pointer are one decision: a candidate judged against a version that is no longer the
    approved one (another run of the model promoted its own meanwhile) is judged again against the one that is,
    and the pointer moves only while it is still where that judgement read it."""
    record = ports.models.version_for_run(request.model_name, request.run_id)  # a retried step registers once
    if record is None:
        request = judged_against_the_approved(request, ports.models.approved(request.model_name))
        record = _new_version(request, ports)
    if record.lineage:  # again on a retry: the index entry may be what the first attempt did not write
        write_index_entry(ports, record.model_name, record.version, record.lineage)
    if record.status == "Approved" and request.approval is not None:
        record, request = _take_the_pointer(record, request, ports)
    elif record.status == "Approved":  # an execution started before the rules travelled with the request
        ports.models.point_to(record)
    if record.lineage:
        _record_in_sagemaker(ports, record)
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


def _record_in_sagemaker(ports: TrainingPorts, record: VersionRecord) -> None:
    """The version's lineage as SageMaker lineage entities, after its decision took effect: a lineage service that
    refuses does not hold a promotion back (`mlrelay models lineage --sagemaker` then shows what is missing)."""
    try:
        ports.registry.record_lineage(record.model_name, record.version, record.model_package_arn, record.lineage)
    except AwsError as err:
        logger.warning("cannot record the version's lineage in SageMaker", extra={
            "model_name": record.model_name, "version": record.version, "error": str(err)})


def judged_against_the_approved(request: RegisterStep, approved: VersionRecord | None) -> RegisterStep:
    """The request as it stands, or, when the approved version (`approved`, read just now) moved since
    EvaluateCandidate read it, judged again against it (the first reason says so)."""
    if request.approval is None or not request.approved:
        return request
    now, then = (approved.version if approved else None), request.decision.get("baseline_version")
    if now == then:
        return request
    baseline = ModelMetrics.from_report(approved.metrics) if approved else None
    decision = decide_promotion(ModelMetrics.from_report(request.decision["metrics"]), baseline, request.approval)
    moved = (f"judged again against v{now}: the approved version moved from "
             f"{f'v{then}' if then is not None else 'none'} while this run was judged")
    return request.model_copy(update={"approved": decision.promote, "decision": {
        **request.decision, **_decision_fields(decision, request.approval.lower_is_better, now),
        "reasons": [moved, *decision.reasons],
    }})


def _take_the_pointer(record: VersionRecord, request: RegisterStep, ports: TrainingPorts) -> tuple[VersionRecord, RegisterStep]:
    """Move the pointer to an approved `record` while it is where the judgement read it; judged again when it moved
    (also when a retry or a resume of this step finds the version registered and the pointer elsewhere)."""
    for _ in range(MAX_JUDGEMENTS):
        approved = ports.models.approved(record.model_name)
        if approved is not None and approved.version == record.version:
            return record, request  # an earlier attempt of this step moved it
        request = judged_against_the_approved(request, approved)
        if not request.approved:  # the version that got there first is better: this one is rejected after all
            entry = {"at": datetime.now(UTC).isoformat(), "actor": "mlrelay", "action": "reject", "from": "Approved",
                     "to": "Rejected", "reason": request.decision["reasons"][0], "source": "training"}
            ports.models.set_status(record.model_name, record.version, "Approved", "Rejected", entry)
            ports.registry.set_status(record.model_package_arn, "Rejected", request.decision["summary"])
            return replace(record, status="Rejected"), request
        if ports.models.point_to_if(record, approved.version if approved else None):
            return record, request
    raise PromotionRaceError(
        f"the approved version of {record.model_name} moved {MAX_JUDGEMENTS} times while v{record.version} was judged; "
        f"resume the run to judge it again"
    )


def registration_status(approved: bool, approval_mode: str) -> str:
    """What the registry records for a judged candidate: a passing one waits for a person in manual mode."""
    if not approved:
        return "Rejected"
    return "PendingManualApproval" if approval_mode == "manual" else "Approved"


def _new_version(request: RegisterStep, ports: TrainingPorts) -> VersionRecord:
    ports.registry.ensure_group(request.model_name, f"mlrelay model {request.model_name}")
    decision, code = request.decision, request.code
    status = registration_status(request.approved, request.approval_mode)
    created_at = datetime.now(UTC).isoformat()
    model_data = model_data_url(
        ports.pipelines.steps(request.pipeline_execution_arn), ports.artifact_bucket, request.model_name, request.run_id,
    )
    # the exact bytes this version is: inference checks them before it uses the artifact (chalicelib/inference/plan.py)
    artifact = ports.s3.fingerprint(model_data)
    artifact_fields = {"uri": artifact.uri, "version_id": artifact.version_id, "sha256": artifact.sha256}
    # read before the package exists: a failure here leaves nothing registered, so a retry registers one version
    lineage = lineage_record(ports, request, status, artifact_fields)
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
        documents=baseline_uri(ports.artifact_bucket, request.model_name, request.run_id),
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
        artifact=artifact_fields,
        lineage=lineage,
    )
    ports.models.put(record)
    return record
