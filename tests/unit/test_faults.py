"""The fault plan: which attempts of which states, steps, statements and posts fail, and how often."""

import pytest

from mlrelay.local.faults import PERMANENT_ERROR, FaultPlan


def test_a_transient_fault_fails_the_given_number_of_attempts_then_lets_the_state_through():
    plan = FaultPlan()
    plan.fail_state("train-a-", "LoadTrainingConfig", error="Lambda.ServiceException", times=2)

    outcomes = [plan.state_fault("train-a-1", "LoadTrainingConfig") for _ in range(3)]

    assert [o.error if o else None for o in outcomes] == ["Lambda.ServiceException", "Lambda.ServiceException", None]
    assert len(plan.fired_in("train-a-")) == 2


def test_a_permanent_fault_fails_every_attempt_of_only_its_state_in_only_its_runs():
    plan = FaultPlan()
    plan.fail_state("train-a-", "EvaluateCandidate")

    assert plan.state_fault("train-a-1", "EvaluateCandidate").error == PERMANENT_ERROR
    assert plan.state_fault("train-a-1-resumed", "EvaluateCandidate").error == PERMANENT_ERROR
    assert plan.state_fault("train-b-1", "EvaluateCandidate") is None
    assert plan.state_fault("train-a-1", "RegisterApprovedModel") is None


def test_a_fault_without_a_run_prefix_is_refused_because_it_would_hit_every_run():
    with pytest.raises(ValueError, match="run prefix"):
        FaultPlan().fail_state("", "EvaluateCandidate")


def test_each_kind_of_fault_is_asked_for_by_its_own_service():
    plan = FaultPlan()
    plan.fail_pipeline_step("train-a-", "Train", times=1)
    plan.lose_status_events("train-lost-")
    plan.end_pipeline_early("train-early-")
    plan.refuse_statement("COPY", "ERROR: 1023", run_id="infer-a-1")
    plan.fail_slack(429, retry_after=1)

    assert plan.pipeline_step_fault("train-a-1", "Train").error.startswith("AlgorithmError")
    assert plan.pipeline_step_fault("train-a-1", "Train") is None  # once
    assert plan.loses_status_events("train-lost-1") and not plan.loses_status_events("train-a-1")
    assert plan.early_end("train-early-1") is not None and plan.early_end("train-a-1") is None
    assert plan.statement_refusal(["COPY t FROM 's3://b/infer-b-1/'"], ["COPY t FROM 's3://b/infer-b-1/'"]) is None
    assert plan.statement_refusal(["COPY t FROM 's3://b/infer-a-1/'"], ["COPY t FROM 's3://b/infer-a-1/'"]).error == "ERROR: 1023"
    assert (plan.slack_response().status, plan.slack_response()) == (429, None)


def test_removing_a_fault_or_clearing_the_plan_ends_it():
    plan = FaultPlan()
    down = plan.fail_slack(503, times=None)
    plan.fail_state("train-a-", "EvaluateCandidate")
    plan.refuse_statement("COPY", "ERROR")

    assert plan.slack_response() is not None and plan.slack_response() is not None  # down until removed
    plan.remove(down)
    assert plan.slack_response() is None
    plan.clear()
    assert plan.state_fault("train-a-1", "EvaluateCandidate") is None
    assert plan.statement_refusal(["COPY x"], ["COPY x"]) is None
