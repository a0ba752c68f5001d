"""One set of assertions, run against the in-memory fake and the real adapter on the emulator.

If the fakes the unit tests use drifted from the adapters they stand for,
these fail (the pattern of aws/chalice's samples/todo-app tests/test_db.py).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from datetime import date

import pytest

from chalicelib.aws.alert_ledger import AlertLedger
from chalicelib.aws.callbacks import OutcomeConflictError, PipelineCallbacks
from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.model_roles import ModelRoles
from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.aws.preferences import NotificationPreferences
from chalicelib.aws.redshift_data import DataApi
from chalicelib.aws.run_ledger import RunLedger
from chalicelib.aws.s3 import S3Objects
from chalicelib.aws.sagemaker import ModelRegistry, Pipelines
from chalicelib.aws.slack import SlackWebhook
from chalicelib.aws.sns import AlertsTopic
from chalicelib.aws.sqs import Queue
from chalicelib.aws.stepfunctions import TaskCallbacks, Workflows, execution_arn_for
from chalicelib.aws.watermarks import DailyWatermarks, PredictionRuns, RowCounts
from chalicelib.shared.messages import FoldedRuns
from chalicelib.shared.naming import model_role_name, model_role_path
from chalicelib.shared.runs import ResumeEntry
from mlrelay.local.state_file import ACCOUNT_ID
from mlrelay.warehouse_client import connection_from
from tests.unit.fakes import (
    FakeAlertLedger,
    FakeDataApi,
    FakeModelRoles,
    FakeModelVersions,
    FakePipelineCallbacks,
    FakePipelines,
    FakePredictionRuns,
    FakePreferences,
    FakeQueue,
    FakeRegistry,
    FakeRowCounts,
    FakeRunLedger,
    FakeS3,
    FakeSlack,
    FakeTaskCallbacks,
    FakeTopic,
    FakeWatermarks,
    FakeWorkflows,
)

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

    def test_every_model_is_read_at_once_with_its_versions_in_order_and_its_approved_one(self, versions, model):
        for number in (2, 1):
            versions.put(version(model, number))
        versions.point_to(version(model, 1))
        versions.record_deployment(model, {"version": 1, "serving": {}})
        versions.put(version(f"{model}-other", 1, status="Rejected"))

        models = versions.every_model()

        records, approved = models[model]
        assert ([r.version for r in records], approved) == ([1, 2], 1)
        assert models[f"{model}-other"][1] is None and [r.status for r in models[f"{model}-other"][0]] == ["Rejected"]


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


# --- the runs table's small records: watermarks, row counts, prediction runs ------------------------------------------

@pytest.fixture(params=["fake", "dynamodb"])
def runs_table_records(request, aws):
    """(watermarks, row counts, prediction runs), on the fakes or on the stack's runs table."""
    if request.param == "fake":
        return FakeWatermarks(), FakeRowCounts(), FakePredictionRuns()
    table = aws.stack.applied.ref("RunsTable")
    return DailyWatermarks(table, aws.dynamodb), RowCounts(table, aws.dynamodb), PredictionRuns(table, aws.dynamodb)


def test_a_daily_watermark_only_moves_forward_and_remembers_its_last_success(runs_table_records, model):
    watermarks, _, _ = runs_table_records
    before = watermarks.last_until(model), watermarks.last_success(model)

    watermarks.advance(model, date(2026, 12, 5), "infer-a")
    watermarks.advance(model, date(2026, 12, 3), "infer-late")  # a late rerun of an older day
    after = watermarks.last_until(model), watermarks.last_success(model)

    assert before == (None, None)
    assert after[0] == date(2026, 12, 5) and after[1] is not None and after[1].tzinfo is not None


def test_a_row_count_swap_answers_the_previous_runs_count_and_none_for_a_rerun(runs_table_records, model):
    _, counts, _ = runs_table_records

    answers = [counts.swap(model, "daily", 120, "infer-1"), counts.swap(model, "daily", 130, "infer-2"),
               counts.swap(model, "daily", 135, "infer-2"), counts.swap(model, "monthly", 4000, "infer-m")]

    assert answers == [None, 120, None, None]


def test_prediction_runs_are_listed_newest_first_each_once(runs_table_records, model):
    _, _, prediction_runs = runs_table_records
    for run in ("infer-1", "infer-2", "infer-2", "infer-3"):
        prediction_runs.add(model, 1, run)
    prediction_runs.add(model, 2, "infer-other-version")

    assert prediction_runs.newest(model, 1, limit=2) == ["infer-3", "infer-2"]
    assert prediction_runs.newest(model, 1, limit=10) == ["infer-3", "infer-2", "infer-1"]
    assert prediction_runs.newest(model, 3, limit=10) == []


@pytest.fixture(params=["fake", "dynamodb"])
def preferences(request, aws):
    if request.param == "fake":
        return FakePreferences()
    return NotificationPreferences(aws.stack.applied.ref("RunsTable"), aws.dynamodb)


def test_notification_preferences_come_back_as_they_were_put(preferences, model):
    before = preferences.get(model)
    preferences.put(model, {"slack": False, "sns": True, "notify_on": ["failure"]})
    preferences.put(model, {"slack": True, "sns": False, "notify_on": ["failure", "inference"]})

    assert before is None
    assert preferences.get(model) == {"slack": True, "sns": False, "notify_on": ["failure", "inference"]}


# --- the alert ledger ----------------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "dynamodb"])
def alert_ledger(request, aws):
    if request.param == "fake":
        return FakeAlertLedger()
    return AlertLedger(aws.stack.applied.ref("AlertsTable"), aws.dynamodb)


def test_an_alert_window_counts_its_messages_and_a_new_one_starts_afresh_keeping_the_runs(alert_ledger, model):
    key = f"failed|training|{model}|Train|AlgorithmError"
    first = alert_ledger.record(key, "m1", now=1000, window_seconds=900, run="train-a")
    alert_ledger.mark_delivered(key, "slack")
    repeat = alert_ledger.record(key, "m2", now=1100, window_seconds=900, run="train-b")
    later = alert_ledger.record(key, "m3", now=1900, window_seconds=900, run="train-c")  # the window ended at 1900

    assert (first.message_ids, first.window_ends) == (frozenset({"m1"}), 1900)
    assert (repeat.message_ids, repeat.delivered, repeat.runs) == (frozenset({"m1", "m2"}), frozenset({"slack"}),
                                                                  frozenset({"train-a", "train-b"}))
    assert (later.message_ids, later.delivered, later.window_ends) == (frozenset({"m3"}), frozenset(), 2800)
    assert later.runs == frozenset({"train-a", "train-b", "train-c"})


def test_the_ledger_keeps_what_was_sent_and_how_many_messages_folded_into_it(alert_ledger, model):
    key, quiet = f"failed|training|{model}|Deploy|ValueError", f"failed|training|{model}|Quiet|ValueError"
    alert_ledger.record(key, "m1", now=1000, window_seconds=900, run="train-a")
    alert_ledger.mark_delivered(key, "slack@m1")
    alert_ledger.keep_words(key, f"❌ {model} failed", "step Deploy: ValueError", now=1001)
    alert_ledger.record(key, "m2", now=1100, window_seconds=900, run="train-b")
    alert_ledger.record(quiet, "m3", now=1200, window_seconds=900)

    sent = {alert.collapse_key: alert for alert in alert_ledger.recent()}

    assert (sent[key].title, sent[key].text, sent[key].sent_at) == (f"❌ {model} failed", "step Deploy: ValueError", 1001)
    assert (sent[key].messages, sent[key].channels, sent[key].runs) == (2, ("slack",), ("train-a", "train-b"))
    assert (sent[quiet].sent_at, sent[quiet].messages, sent[quiet].channels) == (0, 1, ())
    alert_ledger.record(key, "m4", now=1900, window_seconds=900)  # a new window: what the last one sent is not its post
    assert next(a for a in alert_ledger.recent() if a.collapse_key == key).title == ""


def test_one_naming_post_is_scheduled_at_a_time_and_taking_it_frees_the_next(alert_ledger, model):
    key = f"failed|training|{model}|Split|AlgorithmError"
    alert_ledger.record(key, "m1", now=1000, window_seconds=900, run="train-a")

    scheduled = [alert_ledger.schedule_naming(key), alert_ledger.schedule_naming(key)]
    alert_ledger.mark_named(key, ["train-a"])
    taken = alert_ledger.take_naming(key)
    again = alert_ledger.schedule_naming(key)
    alert_ledger.cancel_naming(key)

    assert scheduled == [True, False] and again is True
    assert taken.named == frozenset({"train-a"}) and taken.runs == frozenset({"train-a"})
    assert alert_ledger.schedule_naming(key) is True  # cancelled: the next fold schedules it again


def test_one_message_claims_a_windows_post_and_its_retry_may_claim_it_again(alert_ledger, model):
    key = f"failed|training|{model}|Evaluate|ValueError"
    alert_ledger.record(key, "m1", now=1000, window_seconds=900)

    claims = [alert_ledger.claim_post(key, "slack", "m1", 1900), alert_ledger.claim_post(key, "slack", "m2", 1900),
              alert_ledger.claim_post(key, "slack", "m1", 1900), alert_ledger.claim_post(key, "sns", "m2", 1900),
              alert_ledger.claim_post(key, "slack", "m3", 2800)]  # the next window's post

    assert claims == [True, False, True, True, True]


# --- S3 ------------------------------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "s3"])
def objects(request, aws):
    """(the adapter, put(key, bytes), bucket)."""
    if request.param == "fake":
        fake = FakeS3()
        return fake, lambda key, data: fake.put(aws.bucket, key, data), aws.bucket
    return S3Objects(aws.s3), lambda key, data: aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data), aws.bucket


def test_objects_read_back_and_a_missing_one_is_not_found(objects, model):
    store, put, bucket = objects
    put(f"contracts/{model}/doc.json", b'{"a": 1}')

    assert store.read_json(bucket, f"contracts/{model}/doc.json", 1024) == {"a": 1}
    assert store.exists(f"s3://{bucket}/contracts/{model}/doc.json")
    assert not store.exists(f"s3://{bucket}/contracts/{model}/nothing.json")
    with pytest.raises(NotFoundError):
        store.read_json(bucket, f"contracts/{model}/nothing.json", 1024)


def test_a_table_is_a_file_or_the_csv_files_under_a_prefix_and_its_identity_follows_its_bytes(objects, model):
    store, put, bucket = objects
    prefix = f"contracts/{model}/table/"
    put(prefix + "b.csv", b"id,x\n2,b\n")
    put(prefix + "a.csv", b"id,x\n1,a\n")
    put(prefix + "notes.txt", b"not a table")
    before = store.identity(f"s3://{bucket}/{prefix}")

    lines = list(store.table_lines(bucket, prefix))
    first = store.first_table_file(bucket, prefix)
    put(prefix + "a.csv", b"id,x\n1,changed\n")
    after = store.identity(f"s3://{bucket}/{prefix}")
    single = store.identity(f"s3://{bucket}/{prefix}a.csv")

    assert first == prefix + "a.csv"
    assert lines == [(prefix + "a.csv", "id,x"), (prefix + "a.csv", "1,a"), (prefix + "b.csv", "id,x"), (prefix + "b.csv", "2,b")]
    assert before.startswith("files:2:") and after.startswith("files:2:") and before != after
    assert single.startswith("etag:")


def test_a_pinned_table_keeps_its_files_bytes_and_versions_and_is_copied_once_per_content(objects, model):
    store, put, bucket = objects
    prefix = f"contracts/{model}/pinned/"
    put(prefix + "a.csv", b"id,x\n1,a\n")
    put(prefix + "sub/b.csv", b"id,x\n2,b\n")
    source = f"s3://{bucket}/{prefix}"

    first = store.pin(source, bucket, "tables")
    again = store.pin(source, bucket, "tables")
    put(prefix + "a.csv", b"id,x\n1,changed\n")
    changed = store.pin(source, bucket, "tables")

    assert again == first and changed.uri != first.uri and changed.identity == store.identity(source) != first.identity
    assert [f.key for f in first.files] == [prefix + "a.csv", prefix + "sub/b.csv"]
    assert first.uri.startswith(f"s3://{bucket}/inputs/tables/") and first.uri.endswith("/data/")
    pinned_prefix = first.uri.removeprefix(f"s3://{bucket}/")
    assert list(store.table_lines(bucket, pinned_prefix)) == [
        (pinned_prefix + "a.csv", "id,x"), (pinned_prefix + "a.csv", "1,a"), (pinned_prefix + "sub/b.csv", "id,x"),
        (pinned_prefix + "sub/b.csv", "2,b")]
    assert first.header_sha256 == hashlib.sha256(b"id,x").hexdigest() and first.size == 18
    assert [f.version_id for f in store.file_versions(source)][1] == first.files[1].version_id
    assert store.file_versions(source)[0].version_id != first.files[0].version_id
    code = store.pin(f"s3://{bucket}/{prefix}a.csv", bucket, "code")
    assert code.uri.startswith(f"s3://{bucket}/inputs/code/") and code.uri.endswith("/a.csv") and code.header_sha256 == ""


# --- the model registry --------------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "sagemaker"])
def registry(request, aws):
    if request.param == "fake":
        return FakeRegistry()
    return ModelRegistry(aws.stack.stage, aws.stack.client("sagemaker"))


CONTAINER = {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
             "ModelDataUrl": "s3://bucket/runs/m/r/model/job/output/model.tar.gz"}


def test_a_registered_version_keeps_its_status_until_set_and_its_container(registry, model):
    with pytest.raises(AwsError):
        registry.register(model, "Approved", "no group yet", CONTAINER, {"run_id": "r0"})
    registry.ensure_group(model, "a contract test's model")
    registry.ensure_group(model, "a contract test's model")  # twice: still one group

    first = registry.register(model, "Approved", "v1", CONTAINER, {"run_id": "r1"})
    second = registry.register(model, "Rejected", "v2", {**CONTAINER, "ModelDataUrl": "s3://bucket/v2.tar.gz"}, {"run_id": "r2"})
    registry.set_status(first, "Rejected", "rolled back by hand")

    assert (first.rsplit("/", 1)[-1], second.rsplit("/", 1)[-1]) == ("1", "2")
    assert (registry.status(first), registry.status(second)) == ("Rejected", "Rejected")
    assert registry.container(second)["ModelDataUrl"] == "s3://bucket/v2.tar.gz"
    assert registry.container(first)["Image"] == CONTAINER["Image"]


# --- a queue ------------------------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "sqs"])
def queue(request, aws):
    """(the adapter, what the queue delivered so far)."""
    if request.param == "fake":
        fake = FakeQueue()
        return fake, lambda: [(m, d) for m, d in zip(fake.messages, fake.delays, strict=True)]
    url = aws.sqs.create_queue(QueueName=f"contract-queue-{next(_names)}")["QueueUrl"]

    def delivered():
        received = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3).get("Messages", [])
        return [(json.loads(m["Body"]), None) for m in received]

    return Queue(url, aws.sqs), delivered


def test_a_sent_message_arrives_as_its_json(queue):
    adapter, delivered = queue
    message = FoldedRuns(collapse_key="failed|training|m|Train|AlgorithmError", workflow="training", model_name="m", state="Train",
                         error="AlgorithmError")

    message_id = adapter.send(message)

    assert isinstance(message_id, str) and message_id
    assert [body for body, _ in delivered()] == [json.loads(message.model_dump_json())]


# --- the people: SNS and Slack ------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "sns"])
def topic(request, aws):
    """(the adapter, what its subscribers got that mentions a text)."""
    if request.param == "fake":
        fake = FakeTopic()
        return fake, lambda text: [(s, b) for s, b in fake.published if text in s + b]
    adapter = AlertsTopic(aws.stack.applied.ref("AlertsTopic"), aws.stack.client("sns"))
    return adapter, lambda text: [(n["Subject"], n["Message"]) for n in aws.sns_messages(text)]


def test_a_published_alert_reaches_the_subscribers_with_its_subject(topic, model):
    adapter, received = topic

    message_id = adapter.publish(f"❌ {model} failed", f"step Train of {model}: AlgorithmError")

    assert isinstance(message_id, str) and message_id
    assert received(model) == [(f"❌ {model} failed", f"step Train of {model}: AlgorithmError")]


@pytest.fixture(params=["fake", "slack"])
def slack(request, aws):
    """(the adapter, what Slack accepted that mentions a text)."""
    if request.param == "fake":
        fake = FakeSlack()
        return fake, lambda text: [p for p in fake.posts if text in json.dumps(p, ensure_ascii=False)]
    adapter = SlackWebhook(aws.stack.applied.parameters["SlackWebhookParameterName"], min_interval_seconds=0)
    return adapter, aws.slack_posts


def test_a_slack_post_arrives_as_it_was_sent(slack, model):
    adapter, received = slack
    message = {"text": f"✅ {model} v1 promoted", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*v1*"}}]}

    adapter.post(message)

    assert received(model) == [message]


# --- starting workflows --------------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "stepfunctions"])
def workflows(request, aws):
    """(the adapter, a state machine ARN whose executions run a while)."""
    if request.param == "fake":
        yield FakeWorkflows(), f"arn:aws:states:us-east-1:123456789012:stateMachine:contract-{next(_names)}"
        return
    training = aws.sfn.describe_state_machine(stateMachineArn=aws.training_arn)
    machine = aws.sfn.create_state_machine(
        name=f"contract-waits-{next(_names)}", roleArn=training["roleArn"],
        # 600 s: a minute on the stack's scaled clock, which the repeat below must fall well within
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}),
    )["stateMachineArn"]
    yield Workflows(aws.sfn), machine
    for execution in aws.sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        aws.sfn.stop_execution(executionArn=execution["executionArn"])


def test_a_run_name_starts_one_execution_and_a_repeat_says_it_was_started_already(workflows, model):
    adapter, machine = workflows

    first = adapter.start(machine, f"train-{model}", {"run_id": f"train-{model}"})
    time.sleep(1.5)  # a repeat within the clocks' allowed skew (stepfunctions.CLOCK_SKEW) is reported as a start
    repeat = adapter.start(machine, f"train-{model}", {"run_id": f"train-{model}"})  # Step Functions answers with the running one
    other = adapter.start(machine, f"train-{model}", {"run_id": "another input"})  # and refuses the name for another input

    assert first.execution_arn == repeat.execution_arn == other.execution_arn == execution_arn_for(machine, f"train-{model}")
    assert (first.already_existed, repeat.already_existed, other.already_existed) == (False, True, True)


# --- answering waiting tasks ---------------------------------------------------------------------------------------------

@pytest.fixture(params=["fake", "stepfunctions"])
def task_tokens(request, aws):
    """(the adapter, a function that gives the token of a task waiting now)."""
    if request.param == "fake":
        yield FakeTaskCallbacks(), lambda: f"token-{next(_names)}"
        return
    table = aws.stack.applied.ref("PipelineCallbacksTable")
    training = aws.sfn.describe_state_machine(stateMachineArn=aws.training_arn)
    waits = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken", "End": True,
             "Parameters": {"TableName": table, "Key": {"pipeline_execution_arn": {"S.$": "$.key"}},
                            "UpdateExpression": "SET task_token = :token",
                            "ExpressionAttributeValues": {":token": {"S.$": "$$.Task.Token"}}}}
    machine = aws.sfn.create_state_machine(name=f"contract-callbacks-{next(_names)}", roleArn=training["roleArn"],
                                           definition=json.dumps({"StartAt": "Wait", "States": {"Wait": waits}}))["stateMachineArn"]

    def waiting_token():
        key = f"contract-callback-{next(_names)}"
        aws.sfn.start_execution(stateMachineArn=machine, name=key, input=json.dumps({"key": key}))
        deadline = time.monotonic() + 30
        while not (item := aws.dynamodb.get_item(TableName=table, Key={"pipeline_execution_arn": {"S": key}}).get("Item")):
            assert time.monotonic() < deadline, "the task never stored its token"
            time.sleep(0.1)
        return item["task_token"]["S"]

    yield TaskCallbacks(aws.sfn), waiting_token
    for execution in aws.sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
        aws.sfn.stop_execution(executionArn=execution["executionArn"])  # a failed test's waits would never end


def test_a_waiting_task_takes_one_answer_and_a_late_one_is_stale(task_tokens):
    adapter, waiting_token = task_tokens
    succeeded, failed = waiting_token(), waiting_token()

    answers = [adapter.succeed(succeeded, {"status": "Succeeded"}), adapter.succeed(succeeded, {"status": "Succeeded"}),
               adapter.fail(failed, "PipelineFailed", "step Train: boom"), adapter.fail(failed, "PipelineFailed", "again")]

    assert answers == [True, False, True, False]


# --- the warehouse's Data API and the pipelines' definitions -------------------------------------------------------------

@pytest.fixture(params=["fake", "redshift-data"])
def data_api(request, aws):
    if request.param == "fake":
        return FakeDataApi()
    return DataApi(connection_from(aws.stack.info.outputs), aws.data)


def test_a_client_token_names_one_statement(data_api, model):
    first = data_api.batch(["SELECT 1", "SELECT 2"], f"{model}-load", f"{model} load")
    repeat = data_api.batch(["SELECT 1", "SELECT 2"], f"{model}-load", f"{model} load")
    other = data_api.execute("SELECT :n", [{"name": "n", "value": "1"}], f"{model}-count", f"{model} count")

    assert first == repeat and other != first


@pytest.fixture(params=["fake", "sagemaker"])
def pipelines(request, aws):
    """(the adapter, the role a pipeline of the stack runs as)."""
    training = aws.stack.client("sagemaker").describe_pipeline(PipelineName=aws.stack.info.outputs["TrainingPipelineName"])
    if request.param == "fake":
        return FakePipelines(), training["RoleArn"]
    return Pipelines(aws.stack.client("sagemaker")), training["RoleArn"]


def test_a_pipeline_is_made_once_by_its_name_and_described_as_it_was_made(pipelines, model):
    adapter, role = pipelines
    definition = {"Version": "2020-12-01", "Parameters": [{"Name": "RunId", "Type": "String"}], "Steps": []}

    made = adapter.ensure(f"contract-{model}", definition, role, "a contract test's copy")
    again = adapter.ensure(f"contract-{model}", {**definition, "Steps": ["ignored"]}, role, "a contract test's copy")
    described = adapter.describe(f"contract-{model}")

    assert (made, again) == (True, False)
    assert (described.definition, described.role_arn) == (definition, role)
    with pytest.raises(NotFoundError):
        adapter.describe(f"contract-{model}-none")


@pytest.fixture(params=["fake", "iam"])
def model_roles(request, aws):
    """(the adapter, its stage)."""
    if request.param == "fake":
        return FakeModelRoles(stage="dev"), "dev"
    policy = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlrelay-dev-model-jobs"
    return ModelRoles("dev", policy, aws.stack.client("iam")), "dev"


def test_a_model_gets_one_role_of_its_own_under_the_models_path(model_roles, model):
    adapter, stage = model_roles
    first = adapter.ensure(model)

    assert adapter.ensure(model) == first  # made once, then the same
    assert first == f"arn:aws:iam::{ACCOUNT_ID}:role{model_role_path(stage)}{model_role_name(stage, model)}"
    assert adapter.ensure(f"{model}-other") != first
