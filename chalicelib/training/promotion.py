"""Whether a newly trained model replaces the approved one: a pure decision.

A candidate is promoted only if every rule passes: its metric meets the
threshold (a floor when higher is better, a ceiling when lower is), it is not
worse than the approved model's by more than the allowed regression (absolute
or relative), and its training data has not shifted past the limits (the
label mix, or the regression target's distribution, by population stability
index; the row count by ratio). The first model of a name is judged by the
threshold alone. Every rule's outcome is kept as a reason, so a rejection says
exactly why.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from chalicelib.config.judging import ModelMetrics, PromotionRules, regression_check

PSI_FLOOR = 1e-4  # share given to a bin empty on one side, so the log stays finite
PSI_BINS = 10  # regression targets: deciles of the approved model's training target


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


def decide_promotion(candidate: ModelMetrics, approved: ModelMetrics | None, rules: PromotionRules) -> PromotionDecision:
    metric = rules.metric
    score = candidate.score(metric)
    passed: list[str] = []
    failed: list[str] = []

    def judge(ok: bool, text: str) -> None:
        (passed if ok else failed).append(("✓ " if ok else "✗ ") + text)

    if rules.threshold is not None:
        meets = score <= rules.threshold if rules.lower_is_better else score >= rules.threshold
        bound, sign = ("ceiling", "≤" if meets else ">") if rules.lower_is_better else ("floor", "≥" if meets else "<")
        judge(meets, f"{metric} {score:.4f} {sign} {bound} {rules.threshold:.4f}")
    deltas: dict[str, float] = {}
    baseline = None
    if approved is None:
        passed.append("✓ first model of this name: only the threshold applies")
    else:
        baseline = approved.score(metric)
        deltas = {metric: round(score - baseline, 6)}
        judge(*regression_check(metric, score, baseline, "approved", rules))
        psi, what = _distribution_shift(candidate, approved)
        if psi is not None:
            deltas["distribution_psi"] = round(psi, 6)
            judge(psi <= rules.max_distribution_psi, f"{what} PSI {psi:.4f} (limit {rules.max_distribution_psi:.4f})")
        change = candidate.train_rows / approved.train_rows - 1 if approved.train_rows else math.inf
        deltas["train_rows_change"] = round(change, 6)
        judge(
            abs(change) <= rules.max_size_change,
            f"training rows {candidate.train_rows:,} vs {approved.train_rows:,} ({change:+.1%}; limit ±{rules.max_size_change:.0%})",
        )
    return PromotionDecision(
        promote=not failed, reasons=failed + passed, primary_metric=metric, candidate_score=score, baseline_score=baseline,
        deltas=deltas,
    )


def _distribution_shift(candidate: ModelMetrics, approved: ModelMetrics) -> tuple[float | None, str]:
    if candidate.label_distribution and approved.label_distribution:
        return population_stability_index(approved.label_distribution, candidate.label_distribution), "label mix"
    if candidate.target_percentiles and approved.target_percentiles:
        return target_psi(approved.target_percentiles, candidate.target_percentiles), "target distribution"
    return None, ""


def population_stability_index(expected: dict[str, float], actual: dict[str, float]) -> float:
    """PSI between two distributions (shares summing to 1); 0 means identical."""
    total = 0.0
    for label in set(expected) | set(actual):
        e = max(expected.get(label, 0.0), PSI_FLOOR)
        a = max(actual.get(label, 0.0), PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def target_psi(expected_percentiles: list[float], actual_percentiles: list[float]) -> float:
    """PSI of a numeric target over the expected (approved) training target's deciles.

    Each training set is summarised by its 101 percentiles; the share of the
    actual target in each expected decile is read off its percentiles.
    """
    step = (len(expected_percentiles) - 1) // PSI_BINS
    edges = expected_percentiles[step:-1:step][: PSI_BINS - 1]  # the 9 inner decile edges
    cumulative = [0.0] + [_share_below(actual_percentiles, edge) for edge in edges] + [1.0]
    actual = {str(i): cumulative[i + 1] - cumulative[i] for i in range(PSI_BINS)}
    expected = {str(i): 1.0 / PSI_BINS for i in range(PSI_BINS)}
    return population_stability_index(expected, actual)


def _share_below(percentiles: list[float], value: float) -> float:
    """The share of a distribution below `value`, interpolated from its 101 percentiles."""
    if value <= percentiles[0]:
        return 0.0
    if value >= percentiles[-1]:
        return 1.0
    i = bisect.bisect_right(percentiles, value) - 1
    low, high = percentiles[i], percentiles[i + 1]
    within = (value - low) / (high - low) if high > low else 0.0
    return (i + within) / (len(percentiles) - 1)
