"""Model quality from labels that arrive later: a labels file judged against the approved version's stored predictions.

A quality run is an inference-workflow run of mode `quality`. Prepare finds
the version's loaded runs and writes a SageMaker manifest of their prediction
files; the quality pipeline (pipelines/scripts/model_quality.py) joins the
labels to the newest prediction per item and writes the training evaluation's
metrics document; the judge compares it with the version's own evaluation at
training, using the approval section's metric and allowed regression.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.config.judging import MetricMissingError, ModelMetrics, promotion_rules, regression_check
from chalicelib.config.metrics import CUSTOM_PREFIX, default_metric, lower_is_better
from chalicelib.config.schema import ModelConfig
from chalicelib.shared.messages import ModelQualityMeasured, TrainingRequested
from chalicelib.shared.naming import TRAINING_RUN_PREFIX, execution_name
from chalicelib.shared.pipeline_runs import run_prefix

MAX_PREDICTION_RUNS = 100  # a monthly run covers the catalogue; the dailies since add the newer items


class NoStoredPredictionsError(RuntimeError):
    """The approved version has no loaded predictions for labels to be judged against."""


def quality_spec(config: ModelConfig, run_id: str, version: int, prediction_runs: list[str]) -> dict[str, Any]:
    """The run's spec.json (pipeline_runs.spec_key) for the EvaluateQuality step."""
    return {
        "task": config.task, "id_column": config.inference.id_column, "label_column": config.data.label_column,
        "run_id": run_id, "model_name": config.model_name, "model_version": version, "prediction_runs": prediction_runs,
    }


def predictions_manifest(bucket: str, model_name: str, parts: list[str]) -> list[Any]:
    """A SageMaker ManifestFile: the prefix, the model's folder of runs, then each prediction file's key under it
    (<run>/predictions/<part>.csv: pipelines/scripts/model_quality.py reads the run from the first part)."""
    runs = run_prefix(model_name, "")  # runs/<model>/: the parts are of the model's own runs
    return [{"prefix": f"s3://{bucket}/{runs}"}, *(key.removeprefix(runs) for key in parts)]


def judged_metric(config: ModelConfig) -> tuple[str, str | None]:
    """The approval metric, unless it is the training script's own (labels cannot recompute it): then the task's default."""
    if config.metric.startswith(CUSTOM_PREFIX):
        fallback = default_metric(config.task)
        return fallback, f"{config.metric} is computed by the training script, so labels are judged on {fallback}"
    return config.metric, None


def judge(config: ModelConfig, measured: dict[str, Any], training: dict[str, Any]) -> tuple[bool, list[str], float, float | None]:
    """(dropped, reasons, value now, value at training) for a quality run's metrics document."""
    metric, note = judged_metric(config)
    rules = promotion_rules(config).model_copy(update={"metric": metric, "lower_is_better": lower_is_better(metric)})
    value = ModelMetrics.from_report(measured).score(metric)
    reasons = [note] if note else []
    try:
        at_training = ModelMetrics.from_report(training).score(metric)
    except MetricMissingError:
        return False, [*reasons, f"{metric} {value:.4f}; the version's evaluation has no {metric} to compare with"], value, None
    ok, line = regression_check(metric, value, at_training, "at training", rules)
    return not ok, [("✓ " if ok else "✗ ") + line, *reasons], value, at_training


def retraining_request(config_ref: dict[str, Any], model_name: str, quality_run_id: str) -> TrainingRequested:
    """The training run a quality drop starts: the approved version's config, its name derived from the quality run."""
    run_id = execution_name(TRAINING_RUN_PREFIX, f"{model_name}-retrain", quality_run_id)
    return TrainingRequested(run_id=run_id, model_name=model_name, config=config_ref, requested_at=datetime.now(UTC))


def quality_notice(
    run_id: str, config: ModelConfig, version: int, measured: dict[str, Any], verdict: tuple[bool, list[str], float, float | None],
    metrics_uri: str, retraining_run_id: str | None,
) -> ModelQualityMeasured:
    dropped, reasons, value, at_training = verdict
    metric, _ = judged_metric(config)
    data = measured.get("data", {})
    return ModelQualityMeasured(
        run_id=run_id, model_name=config.model_name, model_version=version, metric=metric, lower_is_better=lower_is_better(metric),
        value=value, training_value=at_training, dropped=dropped, reasons=reasons, labelled_rows=int(data.get("labelled_rows", 0)),
        matched_rows=int(data.get("matched_rows", 0)), metrics_uri=metrics_uri, retraining_run_id=retraining_run_id,
        occurred_at=datetime.now(UTC),
    )
