"""Whether a newly trained model replaces the approved one: a pure decision.

A candidate is promoted only if every rule passes: its primary metric is at
or above the absolute floor, it is not worse than the approved model's by
more than the tolerance, and its training data has not shifted past the
limits (label mix by population stability index, row count by ratio). The
first model of a name is judged by the floor alone. Every rule's outcome is
kept as a reason, so a rejection says exactly why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config.schema import ApprovalCriteria

PSI_FLOOR = 1e-4  # share given to a label absent on one side, so the log stays finite


@dataclass(frozen=True)
class ModelMetrics:
    """What the Evaluate step measured (metrics.json) that the rules read."""

    accuracy: float
    macro_f1: float
    train_rows: int
    train_label_distribution: dict[str, float]
    majority_class_rate: float = 0.0

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> ModelMetrics:
        return cls(
            accuracy=float(report["accuracy"]),
            macro_f1=float(report["macro_f1"]),
            train_rows=int(report["train_rows"]),
            train_label_distribution={str(k): float(v) for k, v in report["train_label_distribution"].items()},
            majority_class_rate=float(report.get("majority_class_rate", 0.0)),
        )

    def score(self, metric: str) -> float:
        return float(getattr(self, metric))


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reasons: list[str]  # one line per rule, passed or failed, failures first
    primary_metric: str
    candidate_score: float
    baseline_score: float | None
    deltas: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        verdict = "promoted" if self.promote else "rejected"
        failed = [r for r in self.reasons if r.startswith("✗")]
        return f"{verdict}: " + ("; ".join(failed) if failed else self.reasons[0])


def decide_promotion(
    candidate: ModelMetrics, approved: ModelMetrics | None, criteria: ApprovalCriteria
) -> PromotionDecision:
    metric = criteria.primary_metric
    score = candidate.score(metric)
    passed: list[str] = []
    failed: list[str] = []

    def judge(ok: bool, text: str) -> None:
        (passed if ok else failed).append(("✓ " if ok else "✗ ") + text)

    above_floor = score >= criteria.min_score
    judge(above_floor, f"{metric} {score:.4f} {'≥' if above_floor else '<'} floor {criteria.min_score:.4f}")
    deltas: dict[str, float] = {}
    baseline = None
    if approved is None:
        passed.append("✓ first model of this name: only the floor applies")
    else:
        baseline = approved.score(metric)
        drop = baseline - score
        deltas = {m: round(candidate.score(m) - approved.score(m), 6) for m in ("accuracy", "macro_f1")}
        judge(
            drop <= criteria.max_regression + 1e-12,
            f"{metric} {score:.4f} vs approved {baseline:.4f} ({score - baseline:+.4f}; "
            f"largest allowed drop {criteria.max_regression:.4f})",
        )
        psi = population_stability_index(approved.train_label_distribution, candidate.train_label_distribution)
        deltas["label_psi"] = round(psi, 6)
        judge(psi <= criteria.max_label_psi, f"label mix PSI {psi:.4f} (limit {criteria.max_label_psi:.4f})")
        change = candidate.train_rows / approved.train_rows - 1 if approved.train_rows else math.inf
        deltas["train_rows_change"] = round(change, 6)
        judge(
            abs(change) <= criteria.max_size_change,
            f"training rows {candidate.train_rows:,} vs {approved.train_rows:,} ({change:+.1%}; "
            f"limit ±{criteria.max_size_change:.0%})",
        )
    return PromotionDecision(
        promote=not failed,
        reasons=failed + passed,
        primary_metric=metric,
        candidate_score=score,
        baseline_score=baseline,
        deltas=deltas,
    )


def population_stability_index(expected: dict[str, float], actual: dict[str, float]) -> float:
    """PSI between two label distributions (shares summing to 1); 0 means identical."""
    total = 0.0
    for label in set(expected) | set(actual):
        e = max(expected.get(label, 0.0), PSI_FLOOR)
        a = max(actual.get(label, 0.0), PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total
