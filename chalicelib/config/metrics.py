"""The metrics each task is judged on, as the evaluation step writes them (SageMaker Model Monitor's names)."""

from __future__ import annotations

from typing import Any, Literal

Task = Literal["binary_classification", "multiclass_classification", "regression"]
TASKS: tuple[Task, ...] = ("binary_classification", "multiclass_classification", "regression")
# The section of the metrics document each task's metrics are in, as in Model Monitor's model-quality statistics.
SECTION = {
    "binary_classification": "binary_classification_metrics",
    "multiclass_classification": "multiclass_classification_metrics",
    "regression": "regression_metrics",
}
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": (
        "accuracy", "precision", "recall", "f1", "f0_5", "f2", "auc", "au_prc", "true_positive_rate",
        "true_negative_rate", "false_positive_rate", "false_negative_rate",
    ),
    "multiclass_classification": (
        "accuracy", "macro_f1", "macro_precision", "macro_recall", "weighted_f1", "weighted_precision",
        "weighted_recall", "weighted_f0_5", "weighted_f2",
    ),
    "regression": ("rmse", "mae", "mse", "r2"),
}
DEFAULT_METRIC = {"binary_classification": "f1", "multiclass_classification": "macro_f1", "regression": "rmse"}
LOWER_IS_BETTER = {"rmse", "mae", "mse", "false_positive_rate", "false_negative_rate"}
CUSTOM_PREFIX = "custom."  # metrics the user's training script writes itself


def metric_values(report: dict[str, Any]) -> dict[str, float | None]:
    """The task's metrics and the script's own (custom.<name>) from an evaluation's metrics document."""
    section = report.get(SECTION.get(report.get("task", ""), ""), {})
    values = {name: metric.get("value") for name, metric in section.items() if isinstance(metric, dict)}
    return values | {f"{CUSTOM_PREFIX}{name}": m.get("value") for name, m in report.get("custom_metrics", {}).items()}


def default_metric(task: str) -> str:
    return DEFAULT_METRIC[task]


def is_known_metric(task: str, metric: str) -> bool:
    return metric in TASK_METRICS[task] or (metric.startswith(CUSTOM_PREFIX) and len(metric) > len(CUSTOM_PREFIX))


def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER
