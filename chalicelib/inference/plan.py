"""What an inference run selects, runs and loads: pure functions of its inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.config.schema import ModelConfig
from chalicelib.shared import pipeline_runs
from chalicelib.shared.pipeline_runs import PIPELINE_OVERHEAD_SECONDS, pipeline_display_name

ROWS_PER_FILE = 50_000  # batch transform and COPY both do best with many moderate files
# A run's row count is "far" from the previous run's (same model and mode)
# when one is at least three times the other and they differ by 100 rows or more.
ANOMALY_FACTOR = 3.0
ANOMALY_MIN_DIFFERENCE = 100
INFERENCE_TIMEOUT_SECONDS = 6 * 3600 + PIPELINE_OVERHEAD_SECONDS
STALE_AFTER = timedelta(hours=36)  # no successful daily run for this long is news


class NoApprovedModelError(RuntimeError):
    """There is no approved model to predict with."""


class RowCountMismatchError(RuntimeError):
    """The warehouse holds a different number of rows than the transform produced."""


def daily_window(scheduled_for: datetime, last_until: date | None) -> tuple[date, date]:
    """[since, until): items added since the last successful daily run, up to the scheduled day."""
    until = scheduled_for.date()
    since = last_until if last_until is not None and last_until < until else until - timedelta(days=1)
    return since, until


def run_spec(
    config: ModelConfig, mode: str, window: tuple[date, date] | None, run_id: str, model_version: int,
    segment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The run's spec.json (pipeline_runs.spec_key), read by the Prepare, Assemble and Monitor steps (column names never go
    into parameters).

    `segment` ({column, value}): a model of a family predicts its segment's items only.
    """
    since, until = (window[0].isoformat(), window[1].isoformat()) if window else ("", "")
    return {
        "task": config.task, "id_column": config.inference.id_column, "added_at_column": config.inference.added_at_column,
        "feature_columns": list(config.data.feature_columns), "layout": config.data.layout, "mode": mode, "since": since, "until": until,
        "rows_per_file": ROWS_PER_FILE, "run_id": run_id, "model_name": config.model_name, "model_version": model_version,
        "monitoring": config.monitoring.resolved(), "segment": segment,
    }



def inference_settings(
    config: ModelConfig, run: dict[str, Any], container: dict[str, Any], window: tuple[date, date] | None,
    processing_image: str, region: str, spec_uri: str, baseline: str,
) -> dict[str, Any]:
    """The settings the inference state machine carries: pipeline parameters and the like."""
    environment = container.get("Environment", {})
    catalogue = run.get("catalogue_uri") or config.inference.catalogue_uri or config.data.uri
    since, until = (window[0].isoformat(), window[1].isoformat()) if window else ("", "")
    parameters = pipeline_runs.pipeline_parameters({
        "ModelName": run["model_name"],
        "RunId": run["run_id"],
        "RunSpecUri": spec_uri,
        "ProcessingImage": processing_image,
        "ModelImageUri": container["Image"],
        "ModelDataUrl": container["ModelDataUrl"],
        "ModelCodeUri": environment.get("SAGEMAKER_SUBMIT_DIRECTORY", ""),
        "ModelProgram": environment.get("SAGEMAKER_PROGRAM", "train.py"),
        "Region": region,
        "CatalogueUri": catalogue,
        "BaselineUri": baseline,
    })
    return {
        "pipeline_parameters": parameters,
        "pipeline_display_name": pipeline_display_name(run["run_id"]),
        "pipeline_client_token": pipeline_runs.pipeline_client_token("inference", run["run_id"], parameters),
        "callback_timeout_seconds": run.get("callback_timeout_seconds") or INFERENCE_TIMEOUT_SECONDS,
        "window": {"since": since, "until": until},
    }


def predicted_at(scheduled_for: datetime) -> str:
    """The warehouse timestamp of a run's rows (UTC, seconds; a segment's daily run is scheduled in its local time)."""
    moment = scheduled_for.astimezone(UTC) if scheduled_for.tzinfo else scheduled_for
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def check_row_count(loaded: int, expected: int, table: str, run_id: str) -> None:
    if loaded != expected:
        raise RowCountMismatchError(
            f"{table} holds {loaded:,} rows for run {run_id}, but the transform produced "
            f"{expected:,}: the load is incomplete or duplicated; resume the run to reload it"
        )


def far_from_previous(rows: int, previous: int | None) -> bool:
    if previous is None or abs(rows - previous) < ANOMALY_MIN_DIFFERENCE:
        return False
    low, high = sorted((rows, previous))
    return low == 0 or high / low >= ANOMALY_FACTOR


def is_stale(now: datetime, last_success: datetime | None, approved_at: datetime) -> bool:
    """No successful daily run for 36 hours (counting from approval when there has been none)."""
    return now - (last_success or approved_at) > STALE_AFTER
