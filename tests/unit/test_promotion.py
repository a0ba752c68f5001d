import pytest

from chalicelib.config.schema import ApprovalCriteria
from chalicelib.training.promotion import ModelMetrics, decide_promotion, population_stability_index

MIX = {"BAG": 0.2, "BOX": 0.5, "MAILER": 0.2, "SHIPS_IN_OWN_CONTAINER": 0.1}
CRITERIA = ApprovalCriteria(primary_metric="macro_f1", min_score=0.6, max_regression=0.01, max_label_psi=0.2, max_size_change=0.5)


def metrics(macro_f1=0.9, accuracy=0.92, rows=4000, mix=None):
    return ModelMetrics(accuracy=accuracy, macro_f1=macro_f1, train_rows=rows, train_label_distribution=mix or MIX)


def test_first_model_needs_only_the_floor():
    decision = decide_promotion(metrics(macro_f1=0.61), None, CRITERIA)

    assert decision.promote
    assert decision.baseline_score is None and decision.deltas == {}
    assert any("first model" in r for r in decision.reasons)


def test_first_model_below_the_floor_is_rejected():
    decision = decide_promotion(metrics(macro_f1=0.59), None, CRITERIA)

    assert not decision.promote
    assert decision.reasons[0] == "✗ macro_f1 0.5900 < floor 0.6000"


def test_a_better_model_is_promoted_with_its_deltas():
    decision = decide_promotion(metrics(macro_f1=0.93, accuracy=0.95), metrics(macro_f1=0.90, accuracy=0.92), CRITERIA)

    assert decision.promote
    assert decision.deltas["macro_f1"] == pytest.approx(0.03)
    assert decision.deltas["accuracy"] == pytest.approx(0.03)
    assert all(r.startswith("✓") for r in decision.reasons)


@pytest.mark.parametrize("candidate", [0.90, 0.895, 0.89])
def test_equal_or_worse_within_the_tolerance_is_promoted(candidate):
    assert decide_promotion(metrics(macro_f1=candidate), metrics(macro_f1=0.90), CRITERIA).promote


def test_worse_beyond_the_tolerance_is_rejected_quoting_the_drop():
    decision = decide_promotion(metrics(macro_f1=0.71), metrics(macro_f1=0.93), CRITERIA)

    assert not decision.promote
    assert decision.reasons[0] == "✗ macro_f1 0.7100 vs approved 0.9300 (-0.2200; largest allowed drop 0.0100)"
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
    assert decision.deltas["label_psi"] > 0.2


def test_a_new_label_counts_as_a_shift():
    with_new_label = {**{k: v * 0.7 for k, v in MIX.items()}, "PALLET": 0.3}

    assert not decide_promotion(metrics(mix=with_new_label), metrics(), CRITERIA).promote


@pytest.mark.parametrize(("rows", "promoted"), [(1999, False), (2000, True), (6000, True), (6001, False)])
def test_the_training_set_size_may_change_by_at_most_the_limit(rows, promoted):
    decision = decide_promotion(metrics(rows=rows), metrics(rows=4000), CRITERIA)

    assert decision.promote is promoted


def test_accuracy_can_be_the_primary_metric():
    criteria = CRITERIA.model_copy(update={"primary_metric": "accuracy"})

    decision = decide_promotion(metrics(accuracy=0.80, macro_f1=0.99), metrics(accuracy=0.90, macro_f1=0.5), criteria)

    assert not decision.promote
    assert decision.reasons[0].startswith("✗ accuracy 0.8000 vs approved 0.9000")


def test_every_failed_rule_is_reported_not_just_the_first():
    shifted = {"SHIPS_IN_OWN_CONTAINER": 1.0}

    decision = decide_promotion(metrics(macro_f1=0.3, rows=100, mix=shifted), metrics(), CRITERIA)

    assert len([r for r in decision.reasons if r.startswith("✗")]) == 4


def test_psi_is_zero_for_identical_mixes_and_symmetric_in_size():
    assert population_stability_index(MIX, MIX) == 0
    assert population_stability_index(MIX, {"BOX": 1.0}) == pytest.approx(population_stability_index({"BOX": 1.0}, MIX))
