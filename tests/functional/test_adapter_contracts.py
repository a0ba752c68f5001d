"""One set of assertions, run against the in-memory fake and the real adapter on the emulator.

If the fakes the unit tests use drifted from the adapters they stand for,
these fail (the pattern of aws/chalice's samples/todo-app tests/test_db.py).
"""

from __future__ import annotations

import itertools

import pytest

from chalicelib.aws.callbacks import OutcomeConflictError, PipelineCallbacks
from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.aws.run_ledger import RunLedger
from chalicelib.shared.runs import ResumeEntry
from tests.unit.fakes import FakeModelVersions, FakePipelineCallbacks, FakeRunLedger

pytestmark = pytest.mark.functional
_names = itertools.count()


@pytest.fixture(params=["fake", "dynamodb"])
def versions(request, aws):
    if request.param == "fake":
        yield FakeModelVersions()
        return
    # A table of its own with the models table's keys: the schedules read every model in the real one.
    declared = aws.dynamodb.describe_table(TableName=aws.stack.info.outputs["ModelsTableName"])["Table"]
    name = f"contract-models-{next(_names)}"
    aws.dynamodb.create_table(
        TableName=name, KeySchema=declared["KeySchema"], AttributeDefinitions=declared["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )
    yield ModelVersions(name, aws.dynamodb)
    aws.dynamodb.delete_table(TableName=name)


@pytest.fixture
def model():
    return f"contract-{next(_names)}"


def version(model, number, status="Approved", metrics=None):
    return VersionRecord(
        model_name=model, version=number, status=status, run_id=f"train-{model}-{number}",
        model_package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{number}",
        metrics=metrics or {"macro_f1": 0.914, "train_rows": 1200, "per_class": {"BOX": {"recall": 0.5}}},
        decision={"summary": "promoted", "reasons": ["✓ floor"], "baseline_score": None, "deltas": {"distribution_psi": 0.01}},
        created_at=f"2026-11-2{number}T00:00:00+00:00", config={"bucket": "b", "key": "k", "version_id": None},
    )


class TestModelVersions:
    def test_what_is_put_comes_back_as_it_was_numbers_as_numbers(self, versions, model):
        record = version(model, 1)

        versions.put(record)

        assert versions.version(model, 1) == record
        assert isinstance(versions.version(model, 1).metrics["train_rows"], int)
        assert isinstance(versions.version(model, 1).metrics["macro_f1"], float)

    def test_the_pointer_only_moves_forward(self, versions, model):
        for number in (1, 2):
            versions.put(version(model, number))

        assert versions.approved(model) is None
        assert versions.point_to(version(model, 2)) is True
        assert versions.point_to(version(model, 1)) is False
        assert versions.approved(model).version == 2

    def test_the_pointer_moves_only_while_it_is_where_the_judgement_read_it(self, versions, model):
        for number in (1, 2, 3):
            versions.put(version(model, number))

        assert versions.point_to_if(version(model, 1), judged_against=None) is True
        assert versions.point_to_if(version(model, 3), judged_against=None) is False  # v1 got there first
        assert versions.point_to_if(version(model, 2), judged_against=1) is True
        assert versions.point_to_if(version(model, 3), judged_against=1) is False  # judged against v1, v2 is there
        assert versions.approved(model).version == 2

    def test_versions_are_listed_in_order_and_found_by_run(self, versions, model):
        for number in (2, 1, 3):
            versions.put(version(model, number, status="Rejected" if number == 3 else "Approved"))
        versions.point_to(version(model, 2))

        assert [v.version for v in versions.versions(model)] == [1, 2, 3]
        assert versions.version_for_run(model, f"train-{model}-3").status == "Rejected"
        assert versions.version_for_run(model, "train-other") is None
        assert model in versions.model_names()


@pytest.fixture(params=["fake", "dynamodb"])
def ledger(request, aws):
    if request.param == "fake":
        return FakeRunLedger()
    return RunLedger(aws.stack.applied.ref("RunsTable"), aws.dynamodb)


def make_failed(ledger, aws, run_id):
    if isinstance(ledger, FakeRunLedger):
        from chalicelib.shared.runs import RunRecord

        ledger.runs[run_id] = RunRecord(run_id, "training", "FAILED", failed_state="EvaluateCandidate", resume_input="{}")
    else:  # as the state machine's MarkRunFailed writes it
        aws.dynamodb.put_item(TableName=aws.stack.applied.ref("RunsTable"), Item={
            "run_id": {"S": run_id}, "workflow": {"S": "training"}, "status": {"S": "FAILED"},
            "failed_state": {"S": "EvaluateCandidate"}, "resume_input": {"S": "{}"},
        })


class TestRunLedger:
    def test_steps_are_recorded_and_read_back(self, ledger, model):
        entry = {"attempts": 2, "status": "SUCCEEDED", "output": '{"a": 1}', "started_at": "t0"}

        ledger.record_step(model, "load_config", entry)

        assert ledger.step(model, "load_config") == entry
        assert ledger.step(model, "evaluate") == {}

    def test_only_one_of_two_resumes_of_a_failed_run_begins(self, ledger, aws, model):
        make_failed(ledger, aws, model)
        entry = ResumeEntry(model, 1, f"arn:{model}-r1", "EvaluateCandidate", False, "{}", "2026-11-23T00:00:00Z")

        assert ledger.begin_resume(entry) is True
        assert ledger.begin_resume(entry) is False
        record = ledger.get(model)
        assert (record.status, record.resume_count, record.failed_state) == ("RUNNING", 1, "EvaluateCandidate")
        assert ledger.get("no-such-run") is None


@pytest.fixture(params=["fake", "dynamodb"])
def callbacks(request, aws):
    if request.param == "fake":
        return FakePipelineCallbacks()
    return PipelineCallbacks(aws.stack.applied.ref("PipelineCallbacksTable"), aws.dynamodb)


def test_a_delivery_claim_is_taken_once_and_given_back_only_by_its_taker(callbacks):
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/contract-{next(_names)}"

    first, second = callbacks.claim_delivery(arn, "t1"), callbacks.claim_delivery(arn, "t2")
    callbacks.release_delivery(arn, "t2")  # not the taker's time: nothing happens
    still_taken = callbacks.claim_delivery(arn, "t3")
    callbacks.release_delivery(arn, "t1")
    retaken = callbacks.claim_delivery(arn, "t4")

    assert (first, second, still_taken, retaken) == (True, False, False, True)


def test_the_first_outcome_of_a_pipeline_stands_and_a_repeat_of_it_still_reads_the_token(callbacks, aws):
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/contract-{next(_names)}"
    token = f"token-{arn[-8:]}"
    if isinstance(callbacks, FakePipelineCallbacks):
        callbacks.items[arn] = {"task_token": token}
    else:  # as the workflow's waiting state stores it
        aws.dynamodb.put_item(TableName=aws.stack.applied.ref("PipelineCallbacksTable"),
                              Item={"pipeline_execution_arn": {"S": arn}, "task_token": {"S": token}})

    first = callbacks.record_outcome(arn, "Failed", "step Train: boom")
    repeat = callbacks.record_outcome(arn, "Failed", "step Train: boom")
    with pytest.raises(OutcomeConflictError, match="already has another outcome than Succeeded"):
        callbacks.record_outcome(arn, "Succeeded", "")

    assert (first, repeat) == (token, token)
