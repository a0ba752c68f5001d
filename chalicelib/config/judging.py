"""How a model's metrics are judged: the approval section's rules, a metrics document read, the regression rule.

Training judges a candidate against the approved version with them
(chalicelib/training/promotion.py); a quality run judges the metrics that
labels gave against the version's own evaluation at training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.config.metrics import metric_values
from chalicelib.config.schema import ModelConfig


class MetricMissingError(ValueError):
    """The evaluation has no value for the metric the rules judge on."""


class PromotionRules(BaseModel):
    """The approval section of a config, resolved: what the training workflow judges a candidate by."""

    task: str
    metric: str
    lower_is_better: bool
    threshold: float | None
    max_regression: float
    regression_unit: str  # absolute | relative
    max_distribution_psi: float
    max_size_change: float
    mode: str = "auto"  # manual: a passing candidate waits for a person (PendingManualApproval)


@dataclass(frozen=True)
class ModelMetrics:
    """What the Evaluate step measured (metrics.json) that the rules read."""

    values: dict[str, float | None]  # the task's metrics, and custom.<name>
    train_rows: int
    label_distribution: dict[str, float] = field(default_factory=dict)  # classification
    target_percentiles: list[float] = field(default_factory=list)  # regression: 0th to 100th

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> ModelMetrics:
        data = report.get("data", {})
        return cls(
            values=metric_values(report),
            train_rows=int(data.get("train_rows", 0)),
            label_distribution={str(k): float(v) for k, v in data.get("label_distribution", {}).items()},
            target_percentiles=[float(v) for v in data.get("target_percentiles", [])],
        )

    def score(self, metric: str) -> float:
        value = self.values.get(metric)
        if value is None:
            known = ", ".join(sorted(k for k, v in self.values.items() if v is not None))
            raise MetricMissingError(f"the evaluation has no value for {metric!r} (it has: {known}); check approval.metric")
        return float(value)


def promotion_rules(config: ModelConfig) -> PromotionRules:
    approval = config.approval
    return PromotionRules(
        task=config.task, metric=config.metric, lower_is_better=config.lower_is_better, threshold=config.threshold,
        max_regression=approval.max_regression, regression_unit=approval.regression_unit,
        max_distribution_psi=approval.max_distribution_psi, max_size_change=approval.max_size_change,
        mode=approval.mode,
    )


def regression_check(metric: str, score: float, baseline: float, baseline_name: str, rules: PromotionRules) -> tuple[bool, str]:
    """Is `score` worse than `baseline` by no more than the allowed regression? With the line that says so."""
    worse_by = score - baseline if rules.lower_is_better else baseline - score
    allowed = rules.max_regression * abs(baseline) if rules.regression_unit == "relative" else rules.max_regression
    allowance = f"{rules.max_regression:.0%} of it" if rules.regression_unit == "relative" else f"{rules.max_regression:.4f}"
    return worse_by <= allowed + 1e-12, (
        f"{metric} {score:.4f} vs {baseline_name} {baseline:.4f} ({score - baseline:+.4f}; "
        f"{'lower' if rules.lower_is_better else 'higher'} is better; largest allowed regression {allowance})"
    )
