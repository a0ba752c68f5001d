"""The fault plan: which attempts of which Task states fail, and how often."""

import pytest

from mlrelay.local.faults import PERMANENT_ERROR, FaultPlan


def test_a_transient_fault_fails_the_given_number_of_attempts_then_lets_the_state_through():
    plan = FaultPlan()
    plan.inject("train-a-", "LoadTrainingConfig", error="Lambda.ServiceException", times=2)

    outcomes = [plan.take("train-a-1", "LoadTrainingConfig") for _ in range(3)]

    assert [o.error if o else None for o in outcomes] == ["Lambda.ServiceException", "Lambda.ServiceException", None]
    assert len(plan.fired_in("train-a-")) == 2


def test_a_permanent_fault_fails_every_attempt_of_only_its_state_in_only_its_runs():
    plan = FaultPlan()
    plan.inject("train-a-", "EvaluateCandidate")

    assert plan.take("train-a-1", "EvaluateCandidate").error == PERMANENT_ERROR
    assert plan.take("train-a-1-resumed", "EvaluateCandidate").error == PERMANENT_ERROR
    assert plan.take("train-b-1", "EvaluateCandidate") is None
    assert plan.take("train-a-1", "RegisterApprovedModel") is None


def test_a_fault_without_a_run_prefix_is_refused_because_it_would_hit_every_run():
    with pytest.raises(ValueError, match="run prefix"):
        FaultPlan().inject("", "EvaluateCandidate")
