import numpy as np
import pytest

from chalicelib.config.judging import MetricMissingError, ModelMetrics, PromotionRules
from chalicelib.training.promotion import (
    decide_promotion,
    population_stability_index,
    target_psi,
)

MIX = {"BAG": 0.2, "BOX": 0.5, "MAILER": 0.2, "SHIPS_IN_OWN_CONTAINER": 0.1}
CRITERIA = PromotionRules(
    task="multiclass_classification", metric="macro_f1", lower_is_better=False, threshold=0.6, max_regression=0.01,
    regression_unit="absolute", max_distribution_psi=0.2, max_size_change=0.5,
)
RMSE = PromotionRules(
    task="regression", metric="rmse", lower_is_better=True, threshold=60.0, max_regression=0.05, regression_unit="relative",
    max_distribution_psi=0.2, max_size_change=0.5,
)


def metrics(macro_f1=0.9, accuracy=0.92, rows=4000, mix=None, **custom):
    values = {"macro_f1": macro_f1, "accuracy": accuracy, **{f"custom.{k}": v for k, v in custom.items()}}
    return ModelMetrics(values=values, train_rows=rows, label_distribution=mix or MIX)


def regression(rmse, rows=400, target=None):
    target = target if target is not None else np.random.default_rng(0).normal(150, 60, 2000)
    return ModelMetrics(values={"rmse": rmse, "r2": 0.5}, train_rows=rows, target_percentiles=list(np.percentile(target, range(101))))


def test_first_model_needs_only_the_floor():
    decision = decide_promotion(metrics(macro_f1=0.61), None, CRITERIA)

    assert decision.promote
    assert decision.baseline_score is None and decision.deltas == {}
    assert any("first model" in r for r in decision.reasons)


def test_first_model_below_the_floor_is_rejected():
    decision = decide_promotion(metrics(macro_f1=0.59), None, CRITERIA)

    assert not decision.promote
    assert decision.reasons[0] == "✗ macro_f1 0.5900 < floor 0.6000"


def test_a_better_model_is_promoted_with_its_delta():
    decision = decide_promotion(metrics(macro_f1=0.93, accuracy=0.95), metrics(macro_f1=0.90, accuracy=0.92), CRITERIA)

    assert decision.promote
    assert decision.deltas["macro_f1"] == pytest.approx(0.03)
    assert all(r.startswith("✓") for r in decision.reasons)


@pytest.mark.parametrize("candidate", [0.90, 0.895, 0.89])
def test_equal_or_worse_within_the_tolerance_is_promoted(candidate):
    assert decide_promotion(metrics(macro_f1=candidate), metrics(macro_f1=0.90), CRITERIA).promote


def test_worse_beyond_the_tolerance_is_rejected_quoting_the_drop():
    decision = decide_promotion(metrics(macro_f1=0.71), metrics(macro_f1=0.93), CRITERIA)

    assert not decision.promote
    assert decision.reasons[0] == (
        "✗ macro_f1 0.7100 vs approved 0.9300 (-0.2200; higher is better; largest allowed regression 0.0100)"
    )
    assert decision.summary.startswith("rejected: ✗ macro_f1 0.7100 vs approved 0.9300")


def test_above_the_approved_model_but_below_the_floor_is_rejected():
    decision = decide_promotion(metrics(macro_f1=0.55), metrics(macro_f1=0.50), CRITERIA)

    assert not decision.promote
    assert decision.reasons == [r for r in decision.reasons if r.startswith("✗")] + [
        r for r in decision.reasons if r.startswith("✓")
    ]
    assert "floor" in decision.reasons[0]


def test_a_shifted_label_mix_is_rejected():
    shifted = {"BAG": 0.05, "BOX": 0.15, "MAILER": 0.1, "SHIPS_IN_OWN_CONTAINER": 0.7}

    decision = decide_promotion(metrics(mix=shifted), metrics(), CRITERIA)

    assert not decision.promote
    assert decision.reasons[0].startswith("✗ label mix PSI")
    assert decision.deltas["distribution_psi"] > 0.2


def test_a_new_label_counts_as_a_shift():
    with_new_label = {**{k: v * 0.7 for k, v in MIX.items()}, "PALLET": 0.3}

    assert not decide_promotion(metrics(mix=with_new_label), metrics(), CRITERIA).promote


@pytest.mark.parametrize(("rows", "promoted"), [(1999, False), (2000, True), (6000, True), (6001, False)])
def test_the_training_set_size_may_change_by_at_most_the_limit(rows, promoted):
    decision = decide_promotion(metrics(rows=rows), metrics(rows=4000), CRITERIA)

    assert decision.promote is promoted


def test_any_metric_can_be_judged_including_the_scripts_own():
    criteria = CRITERIA.model_copy(update={"metric": "custom.recall_at_5"})

    decision = decide_promotion(metrics(recall_at_5=0.80), metrics(recall_at_5=0.90), criteria)

    assert not decision.promote
    assert decision.reasons[0].startswith("✗ custom.recall_at_5 0.8000 vs approved 0.9000")


def test_a_metric_the_evaluation_lacks_is_named_with_what_it_has():
    with pytest.raises(MetricMissingError, match="no value for 'custom.ndcg' .*accuracy, macro_f1"):
        decide_promotion(metrics(), None, CRITERIA.model_copy(update={"metric": "custom.ndcg"}))


def test_every_failed_rule_is_reported_not_just_the_first():
    shifted = {"SHIPS_IN_OWN_CONTAINER": 1.0}

    decision = decide_promotion(metrics(macro_f1=0.3, rows=100, mix=shifted), metrics(), CRITERIA)

    assert len([r for r in decision.reasons if r.startswith("✗")]) == 4


@pytest.mark.parametrize(("candidate", "promoted"), [(50.0, True), (52.4, True), (52.6, False)])
def test_lower_is_better_metrics_allow_a_relative_regression(candidate, promoted):
    decision = decide_promotion(regression(candidate), regression(50.0), RMSE)

    assert decision.promote is promoted, decision.reasons


def test_a_ceiling_stops_a_model_that_is_too_wrong_even_the_first():
    decision = decide_promotion(regression(61.0), None, RMSE)

    assert not decision.promote and decision.reasons[0] == "✗ rmse 61.0000 > ceiling 60.0000"


def test_a_shifted_regression_target_is_rejected_and_a_resample_is_not():
    rng = np.random.default_rng(1)
    approved = regression(50.0, target=rng.normal(150, 60, 2000))

    same = decide_promotion(regression(50.0, target=rng.normal(150, 60, 2000)), approved, RMSE)
    shifted = decide_promotion(regression(50.0, target=rng.normal(260, 60, 2000)), approved, RMSE)

    assert same.promote and same.deltas["distribution_psi"] < 0.05
    assert not shifted.promote and any(r.startswith("✗ target distribution PSI") for r in shifted.reasons)


def test_psi_is_zero_for_identical_mixes_and_symmetric_in_size():
    assert population_stability_index(MIX, MIX) == 0
    assert population_stability_index(MIX, {"BOX": 1.0}) == pytest.approx(population_stability_index({"BOX": 1.0}, MIX))
    percentiles = list(np.percentile(np.arange(1000), range(101)))
    assert target_psi(percentiles, percentiles) == pytest.approx(0, abs=1e-9)


def test_the_metrics_document_is_read_from_model_monitors_shape():
    report = {
        "task": "regression",
        "regression_metrics": {"rmse": {"value": 52.5, "standard_deviation": 1.2}, "r2": {"value": 0.41, "standard_deviation": 0.02}},
        "custom_metrics": {"within_10pct": {"value": 0.33}},
        "data": {"train_rows": 353, "target_percentiles": [float(i) for i in range(101)]},
    }

    read = ModelMetrics.from_report(report)

    assert read.values == {"rmse": 52.5, "r2": 0.41, "custom.within_10pct": 0.33}
    assert read.train_rows == 353 and len(read.target_percentiles) == 101
