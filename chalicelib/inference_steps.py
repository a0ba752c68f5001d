"""Lambda steps of the inference workflow, dispatched by the state's `step` field."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from chalicelib import settings
from chalicelib.aws.errors import NotFoundError
from chalicelib.aws.model_versions import ModelVersions
from chalicelib.aws.redshift_data import DataApi
from chalicelib.aws.s3 import S3Objects
from chalicelib.aws.sagemaker import ModelRegistry
from chalicelib.aws.watermarks import DailyWatermarks, RowCounts
from chalicelib.config.parsing import MAX_CONFIG_BYTES, parse_config
from chalicelib.inference_plan import daily_window, far_from_previous, inference_settings, predicted_at
from chalicelib.messages import PredictionsLoaded
from chalicelib.step_ledger import recorded
from chalicelib.warehouse_sql import LoadRequest, PredictionsTable, client_token, count_sql, load_sqls

MAX_SUMMARY_BYTES = 1024 * 1024


class NoApprovedModelError(RuntimeError):
    """There is no approved model to predict with."""


class RowCountMismatchError(RuntimeError):
    """The warehouse holds a different number of rows than the transform produced."""


class RunRef(BaseModel):
    run_id: str
    model_name: str
    mode: Literal["daily", "monthly", "on_demand"]
    scheduled_for: datetime


class PrepareStep(RunRef):
    step: Literal["prepare"]
    catalogue_uri: str | None = None
    callback_timeout_seconds: int | None = None


class LoadStep(RunRef):
    step: Literal["load"]
    model_version: int
    execution: str = ""  # the execution's name: a resumed run submits anew, a retry within one does not


class CountStep(RunRef):
    step: Literal["count"]
    execution: str = ""


class VerifyStep(RunRef):
    step: Literal["verify"]
    model_version: int
    count_statement_id: str
    window_until: str = ""


class InferenceStepEvent(BaseModel):
    request: Annotated[PrepareStep | LoadStep | CountStep | VerifyStep, Field(discriminator="step")]


def handle_inference_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = InferenceStepEvent.model_validate({"request": event}).request
    handlers = {"prepare": prepare, "load": load, "count": count, "verify": verify}
    return recorded(event, lambda: handlers[request.step](request))  # type: ignore[operator]


def prepare(request: PrepareStep) -> dict[str, Any]:
    """Resolve the approved model, its config and container, and what to select."""
    approved = ModelVersions(settings.models_table()).approved(request.model_name)
    if approved is None:
        raise NoApprovedModelError(
            f"model {request.model_name!r} has no approved version: train one (drop a config under configs/train/) first"
        )
    ref = approved.config
    config = parse_config(S3Objects().read(ref["bucket"], ref["key"], ref.get("version_id"), MAX_CONFIG_BYTES).data, ref["key"])
    container = ModelRegistry().container(approved.model_package_arn)
    window = None
    if request.mode == "daily":
        last = DailyWatermarks(settings.runs_table()).last_until(request.model_name)
        window = daily_window(request.scheduled_for, last)
    run = request.model_dump(mode="json")
    return {
        **inference_settings(config, run, container, window),
        "model_version": approved.version,
        "model_package_arn": approved.model_package_arn,
    }


def load(request: LoadStep) -> dict[str, Any]:
    """Submit the load batch (COPY ▸ delete this run's rows ▸ insert) as one transaction."""
    bucket = settings.artifact_bucket()
    prefix = f"runs/{request.run_id}/predictions"
    summary = _read_json(bucket, f"{prefix}/summary.json")
    schema, table = settings.predictions_table()
    sqls = load_sqls(
        PredictionsTable(schema, table),
        LoadRequest(
            run_id=request.run_id, model_name=request.model_name, model_version=request.model_version,
            mode=request.mode, predicted_at=predicted_at(request.scheduled_for),
            manifest_uri=f"s3://{bucket}/{prefix}/manifest.json", iam_role_arn=settings.copy_role_arn(),
        ),
    )
    statement_id = DataApi(settings.warehouse_connection()).batch(
        sqls, client_token(request.run_id, f"load:{request.execution}"), f"mlrelay load {request.run_id}"
    )
    return {"statement_id": statement_id, "expected_rows": summary["rows"], "per_class": summary["per_class"]}


def count(request: CountStep) -> dict[str, Any]:
    schema, table = settings.predictions_table()
    sql, parameters = count_sql(PredictionsTable(schema, table), request.run_id)
    statement_id = DataApi(settings.warehouse_connection()).execute(
        sql, parameters, client_token(request.run_id, f"count:{request.execution}"), f"mlrelay count {request.run_id}"
    )
    return {"statement_id": statement_id}


def verify(request: VerifyStep) -> dict[str, Any]:
    """Compare the rows in the table with the transform's count; fail loudly if they differ."""
    summary = _read_json(settings.artifact_bucket(), f"runs/{request.run_id}/predictions/summary.json")
    rows = DataApi(settings.warehouse_connection()).rows(request.count_statement_id)
    loaded = int(rows[0][0]) if rows else 0
    schema, table = settings.predictions_table()
    if loaded != summary["rows"]:
        raise RowCountMismatchError(
            f"{schema}.{table} holds {loaded:,} rows for run {request.run_id}, but the transform produced "
            f"{summary['rows']:,}: the load is incomplete or duplicated; resume the run to reload it"
        )
    if request.mode == "daily" and request.window_until:
        DailyWatermarks(settings.runs_table()).advance(request.model_name, date.fromisoformat(request.window_until), request.run_id)
    previous = RowCounts(settings.runs_table()).swap(request.model_name, request.mode, loaded, request.run_id)
    notice = PredictionsLoaded(
        run_id=request.run_id, model_name=request.model_name, model_version=request.model_version,
        mode=request.mode, rows_loaded=loaded, per_class=summary["per_class"], table=f"{schema}.{table}",
        previous_rows=previous, far_from_previous=far_from_previous(loaded, previous),
        occurred_at=datetime.now(timezone.utc),
    )
    return {"rows_loaded": loaded, "notification": notice.model_dump(mode="json")}


def _read_json(bucket: str, key: str) -> dict[str, Any]:
    try:
        return json.loads(S3Objects().read(bucket, key, None, MAX_SUMMARY_BYTES).data)
    except NotFoundError as err:
        raise NotFoundError(f"the inference pipeline wrote no s3://{bucket}/{key}") from err
