"""The inference workflow's Lambda steps: resolve the model, submit the load and the count, verify."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import read_config
from chalicelib.config.schema import ModelConfig
from chalicelib.inference.monitoring import blocking_cause, drift_notice, needs_alert
from chalicelib.inference.plan import (
    NoApprovedModelError,
    check_row_count,
    daily_window,
    far_from_previous,
    inference_settings,
    predicted_at,
    run_spec,
)
from chalicelib.inference.requests import CountStep, LoadStep, MonitoringStep, PrepareStep, RunRef, VerifyStep
from chalicelib.inference.warehouse_sql import LoadRequest, PredictionsTable, client_token, count_sql, load_sqls, monitoring_sqls
from chalicelib.shared.artifacts import check_artifact
from chalicelib.shared.images import processing_image
from chalicelib.shared.lineage_index import index_key
from chalicelib.shared.messages import PredictionsLoaded
from chalicelib.shared.model_pipelines import ensure_model_pipeline, with_layout
from chalicelib.shared.observability import logger
from chalicelib.shared.pipeline_runs import baseline_beside, run_prefix, store_run_spec
from chalicelib.shared.port_roles import InferencePorts

MAX_SUMMARY_BYTES = 1024 * 1024


def prepare(request: PrepareStep, ports: InferencePorts) -> dict[str, Any]:
    """Resolve the approved model, its config and container, and what to select (or, for labels, what to judge)."""
    approved = ports.models.approved(request.model_name)
    if approved is None:
        raise NoApprovedModelError(
            f"model {request.model_name!r} has no approved version: train one (drop a config under configs/train/) first"
        )
    config = config_of(ports, approved)
    if request.mode == "quality":
        from chalicelib.inference.quality_steps import prepare_quality

        return prepare_quality(request, ports, approved, config)
    container = ports.registry.container(approved.model_package_arn)
    artifact = approved.artifact  # a version registered before artifacts were recorded has nothing to compare
    # the registered S3 version still current: the same bytes, nothing to read; otherwise the bytes must match
    if artifact and ports.s3.version_of(artifact["uri"]) != artifact["version_id"]:
        check_artifact(request.model_name, approved.version, artifact, ports.s3.fingerprint(artifact["uri"]))
    window = None
    if request.mode == "daily":
        window = daily_window(request.scheduled_for, ports.watermarks.last_until(request.model_name))
    spec = run_spec(config, request.mode, window, request.run_id, approved.version, approved.config.get("segment"))
    spec_uri = store_run_spec(ports.s3, ports.artifact_bucket, request.model_name, request.run_id, spec)
    processing = processing_image(ports.region)
    baseline = baseline_beside(container["ModelDataUrl"])  # where the version's training run kept it, whichever layout
    settings = inference_settings(config, request.model_dump(mode="json"), container, window, processing, ports.region, spec_uri,
                                  baseline)
    return {
        **settings,
        "pipeline_name": model_inference_pipeline(ports, request.model_name, config.data.layout),
        "task": config.task,
        "model_version": approved.version,
        "model_package_arn": approved.model_package_arn,
        "catalogue": record_catalogue(ports, request, approved.version, settings),
    }


def record_catalogue(ports: InferencePorts, request: PrepareStep, version: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Which versions of the catalogue's files the run reads, kept in the lineage index under its URI
    (chalicelib/shared/lineage_index.py): `mlrelay lineage data` lists the run beside the versions trained on it."""
    uri = next(p["Value"] for p in settings["pipeline_parameters"] if p["Name"] == "CatalogueUri")
    try:
        files = [asdict(f) for f in ports.s3.file_versions(uri)]
    except AwsError as err:  # the model's jobs may read a catalogue this function may not look at: the run goes on
        logger.warning("cannot record the catalogue's versions", extra={"uri": uri, "error": str(err)})
        files = []
    ports.s3.put_json(ports.artifact_bucket, index_key(uri, request.run_id), {
        "uri": uri, "kind": "inference", "model_name": request.model_name, "version": version, "run_id": request.run_id,
        "mode": request.mode, "files": files, "at": datetime.now(UTC).isoformat(),
    })
    return {"uri": uri, "files": len(files)}


def model_inference_pipeline(ports: InferencePorts, model_name: str, layout: str = "header") -> str:
    """The model's copy of the inference pipeline: its serving code runs in the batch transform as its own role,
    reading and writing what its data.layout needs."""
    base = ports.pipelines.describe(ports.inference_pipeline)
    definition = with_layout(base.definition, layout)
    return ensure_model_pipeline(ports, ports.inference_pipeline, definition, base.role_arn, model_name, "inference")


def target_table(request: RunRef, ports: InferencePorts) -> PredictionsTable:
    """The table an on-demand request named, or the stage's predictions table."""
    return PredictionsTable(*(request.predictions_table.split(".", 1) if request.predictions_table else ports.predictions_table))


def config_of(ports: InferencePorts, version: VersionRecord) -> ModelConfig:
    """The config version a model version was trained from."""
    ref = version.config
    return read_config(ports.s3, ref["bucket"], ref["key"], ref.get("version_id"))


def record_monitoring(request: MonitoringStep, ports: InferencePorts) -> dict[str, Any]:
    """Submit the run's monitoring rows to the warehouse and say whether to alert, and whether to load at all."""
    prefix = f"{run_prefix(request.model_name, request.run_id)}/monitoring"
    summary = pipeline_output(ports, f"{prefix}/monitoring.json")
    manifest = pipeline_output(ports, f"{prefix}/manifest.json")
    sqls = monitoring_sqls(target_table(request, ports), _copy_request(request, ports, prefix),
                           has_rows=bool(manifest.get("entries")))
    statement_id = ports.warehouse.batch(
        sqls, client_token(request.run_id, f"monitoring:{request.execution}"), f"mlrelay monitoring {request.run_id}"
    )
    alert = needs_alert(summary)
    return {
        "statement_id": statement_id,
        "blocked": bool(summary.get("blocking")),
        "notify": alert and not summary.get("blocking"),  # a blocked run's failure alert says it all
        "notification": drift_notice(summary, datetime.now(UTC)).model_dump(mode="json") if alert else {},
        "cause": blocking_cause(summary) if summary.get("blocking") else "",
    }


def load(request: LoadStep, ports: InferencePorts) -> dict[str, Any]:
    """Submit the load batch (COPY ▸ delete this run's rows ▸ insert) as one transaction."""
    summary = _summary(ports, request)
    prefix = run_prefix(request.model_name, request.run_id)
    explained = pipeline_output(ports, f"{prefix}/monitoring/monitoring.json").get("explanations")  # None: none asked for
    sqls = load_sqls(
        target_table(request, ports), _copy_request(request, ports, f"{prefix}/predictions"),
        f"s3://{ports.artifact_bucket}/{prefix}/monitoring/explanations/manifest.json" if explained and explained["rows"] else None,
        explained=explained is not None,
    )
    statement_id = ports.warehouse.batch(
        sqls, client_token(request.run_id, f"load:{request.execution}"), f"mlrelay load {request.run_id}"
    )
    return {"statement_id": statement_id, "expected_rows": summary["rows"]}


def count(request: CountStep, ports: InferencePorts) -> dict[str, Any]:
    sql, parameters = count_sql(target_table(request, ports), request.run_id)
    statement_id = ports.warehouse.execute(
        sql, parameters, client_token(request.run_id, f"count:{request.execution}"), f"mlrelay count {request.run_id}"
    )
    return {"statement_id": statement_id}


def verify(request: VerifyStep, ports: InferencePorts) -> dict[str, Any]:
    """Compare the rows in the table with the transform's count; fail loudly if they differ."""
    summary = _summary(ports, request)
    rows = ports.warehouse.rows(request.count_statement_id)
    loaded = int(rows[0][0]) if rows else 0
    table = target_table(request, ports).qualified
    check_row_count(loaded, summary["rows"], table, request.run_id)
    if request.mode == "daily" and request.window_until:
        ports.watermarks.advance(request.model_name, date.fromisoformat(request.window_until), request.run_id)
    # a scratch table's rows are not the model's predictions: no baseline for the next run, nothing to judge labels against
    scratch = request.predictions_table is not None
    previous = None if scratch else ports.row_counts.swap(request.model_name, request.mode, loaded, request.run_id)
    if not scratch:
        ports.prediction_runs.add(request.model_name, request.model_version, request.run_id)
    notice = PredictionsLoaded(
        run_id=request.run_id, model_name=request.model_name, model_version=request.model_version,
        mode=request.mode, rows_loaded=loaded, per_class=summary.get("per_class", {}), values=summary.get("values"), table=table,
        previous_rows=previous, far_from_previous=far_from_previous(loaded, previous),
        occurred_at=datetime.now(UTC),
    )
    return {"rows_loaded": loaded, "notification": notice.model_dump(mode="json")}


def _copy_request(request: LoadStep | MonitoringStep, ports: InferencePorts, prefix: str) -> LoadRequest:
    """What a COPY of the files a manifest under `prefix` names needs, for this run's rows."""
    return LoadRequest(
        run_id=request.run_id, model_name=request.model_name, model_version=request.model_version,
        mode=request.mode, predicted_at=predicted_at(request.scheduled_for),
        manifest_uri=f"s3://{ports.artifact_bucket}/{prefix}/manifest.json", iam_role_arn=ports.copy_role_arn,
    )


def _summary(ports: InferencePorts, run: RunRef) -> dict[str, Any]:
    return pipeline_output(ports, f"{run_prefix(run.model_name, run.run_id)}/predictions/summary.json")


def pipeline_output(ports: InferencePorts, key: str) -> dict[str, Any]:
    try:
        return ports.s3.read_json(ports.artifact_bucket, key, MAX_SUMMARY_BYTES)
    except NotFoundError as err:
        raise NotFoundError(f"the inference pipeline wrote no s3://{ports.artifact_bucket}/{key}") from err
