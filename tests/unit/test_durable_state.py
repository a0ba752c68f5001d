"""The embedded stack's durable state: what a write is, what is saved, and what comes back (moto in memory)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends

from chalicelib.alerts.content import alert_for
from chalicelib.resume.plan import Resume, plan_resume
from chalicelib.shared.messages import alert_messages
from chalicelib.shared.runs import INTERRUPTED_ERROR, RunRecord
from mlrelay.local.durable import interrupted
from mlrelay.local.durable.state import _queues_of, _tables_of
from mlrelay.local.durable.store import StateFolderError, StateStore
from mlrelay.local.durable.writes import DurableWrites, Write, _service, _write
from mlrelay.local.emulated.state.s3 import S3State
from mlrelay.local.emulated.state.tables import DynamoDbState, SqsState
from mlrelay.local.state_file import ACCOUNT_ID, REGION

AUTH = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"


def _environ(service: str, method: str = "POST", target: str = "", body: bytes = b"", path: str = "/") -> dict:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "HTTP_AUTHORIZATION": AUTH.format(service=service),
            "HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}


def test_a_write_is_told_from_a_read_by_its_operation_and_its_service_by_its_signature():
    body = json.dumps({"TableName": "runs"}).encode()
    environ = _environ("dynamodb", target="DynamoDB_20120810.UpdateItem", body=body)

    assert _service(environ) == "dynamodb"
    assert _write("dynamodb", environ) == Write("dynamodb", "UpdateItem", "/", {"TableName": "runs"})
    assert environ["wsgi.input"].read() == body  # moto still reads the whole body
    assert _write("dynamodb", _environ("dynamodb", target="DynamoDB_20120810.Query", body=body)) is None
    assert _write("sqs", _environ("sqs", target="AmazonSQS.ReceiveMessage", body=b"{}")) is None
    presigned = {**_environ("s3", "PUT", path="/b/k"), "HTTP_AUTHORIZATION": "",
                 "QUERY_STRING": "X-Amz-Credential=AKID%2F20261206%2Fus-east-1%2Fs3%2Faws4_request"}
    assert _service(presigned) == "s3"


def test_a_write_is_kept_before_its_answer_and_only_when_it_succeeded():
    kept: list[Write] = []

    def app(status: str):
        def answer(environ, start_response):
            start_response(status, [])
            return [b"{}"]
        return answer

    for status in ("200 OK", "400 Bad Request"):
        writes = DurableWrites(app(status), {"sqs": kept.append}, serialized=["sqs"])
        writes(_environ("sqs", target="AmazonSQS.SendMessage", body=b'{"QueueUrl": "http://h/1/q"}'), lambda *a: None)
        writes(_environ("sqs", target="AmazonSQS.GetQueueUrl", body=b"{}"), lambda *a: None)

    assert [write.action for write in kept] == ["SendMessage"]


def test_the_tables_and_queues_a_write_names_are_the_ones_saved():
    operations = [{"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}}]
    transact = Write("dynamodb", "TransactWriteItems", "/", {"TransactItems": operations})
    assert _tables_of(transact) == ["a", "b"]
    assert _tables_of(Write("dynamodb", "BatchWriteItem", "/", {"RequestItems": {"c": []}})) == ["c"]
    assert _tables_of(Write("dynamodb", "Unknown", "/", {})) is None  # every table
    assert _queues_of(Write("sqs", "SendMessage", "/", {"QueueUrl": "http://127.0.0.1:1/123456789012/q1"})) == ["q1"]


@pytest.fixture
def aws():
    with mock_aws():
        yield


def test_s3_objects_every_version_and_a_new_bucket_come_back_bodies_stored_once(aws, tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="kept")
    s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="kept", Key="a/b.csv", Body=b"one")["VersionId"]
    s3.put_object(Bucket="kept", Key="a/b.csv", Body=b"two")
    s3.put_object(Bucket="kept", Key="same.csv", Body=b"one")
    state = S3State(StateStore(tmp_path))
    state.save("kept")
    s3.delete_object(Bucket="kept", Key="same.csv")
    state.save("kept")  # a delete marker: that name is saved again, the other is not

    s3_backends[ACCOUNT_ID]["aws"].reset()
    assert state.restore() == 2

    assert s3.get_object(Bucket="kept", Key="a/b.csv")["Body"].read() == b"two"
    assert s3.get_object(Bucket="kept", Key="a/b.csv", VersionId=first)["Body"].read() == b"one"
    listed = s3.list_object_versions(Bucket="kept")
    assert len(listed["Versions"]) == 3 and [marker["Key"] for marker in listed["DeleteMarkers"]] == ["same.csv"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="kept", Key="same.csv")
    assert len(list((tmp_path / "blobs").iterdir())) == 2  # "one" once, "two"


def test_table_items_and_queue_messages_come_back_and_messages_are_visible_again(aws, tmp_path):
    dynamodb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
    dynamodb.create_table(TableName="runs", KeySchema=[{"AttributeName": "run_id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "run_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="runs", Item={"run_id": {"S": "r1"}, "status": {"S": "RUNNING"}})
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m1")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)  # in flight when the stack stopped
    store = StateStore(tmp_path)
    DynamoDbState(store).save(["runs"])
    SqsState(store).save(["q"])
    dynamodb.delete_item(TableName="runs", Key={"run_id": {"S": "r1"}})
    sqs_backends[ACCOUNT_ID][REGION].queues["q"]._messages.clear()

    assert DynamoDbState(store).restore() == 1
    assert SqsState(store).restore() == 1

    assert dynamodb.get_item(TableName="runs", Key={"run_id": {"S": "r1"}})["Item"]["status"] == {"S": "RUNNING"}
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["m1"]


def test_a_folder_of_another_stage_or_held_by_a_running_stack_is_refused_naming_what_differs(tmp_path):
    first = StateStore(tmp_path)
    assert first.check_or_claim("dev") is False
    with pytest.raises(StateFolderError, match="another running stack keeps its state in"):
        StateStore(tmp_path).check_or_claim("dev")
    first.release()
    again = StateStore(tmp_path)
    assert again.check_or_claim("dev") is True
    again.release()
    with pytest.raises(StateFolderError, match=r"stage 'dev' \(this stack: 'prod'\).*--fresh"):
        StateStore(tmp_path).check_or_claim("prod")


def _entered(name: str, state_input: dict) -> dict:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name, "input": json.dumps(state_input)}}


def _exited(name: str) -> dict:
    return {"type": "TaskStateExited", "stateExitedEventDetails": {"name": name}}


def test_a_run_stood_in_the_state_it_entered_and_did_not_leave():
    points = {"LoadTrainingConfig", "WaitForTrainingPipeline"}
    events = [_entered("LoadTrainingConfig", {"a": 1}), _exited("LoadTrainingConfig"), _entered("WaitForTrainingPipeline", {"b": 2})]
    assert interrupted.where_it_stood(events, points) == ("WaitForTrainingPipeline", {"b": 2})
    # on its failure path: where it had failed, with the input the failure path carries
    reporting = _entered("ReportFailure", {"failed_state": {"name": "WaitForTrainingPipeline"}})
    failing = [*events, _exited("WaitForTrainingPipeline"), reporting]
    assert interrupted.where_it_stood(failing, points)[0] == "WaitForTrainingPipeline"
    assert interrupted.where_it_stood([_entered("PipelineSucceeded", {})], points) == ("PipelineSucceeded", None)
    assert interrupted.where_it_stood([], points) == ("", None)


def test_an_interrupted_run_resumes_where_it_stood_and_its_alert_says_so():
    record = RunRecord(run_id="r1", workflow="training", status="INTERRUPTED", failed_state="WaitForTrainingPipeline",
                       failed_execution_arn="arn:x", resume_input=json.dumps({"run_id": "r1", "pipeline": {"execution_arn": "p"}}))
    resume = plan_resume(record)
    assert isinstance(resume, Resume) and resume.from_state == "WaitForTrainingPipeline" and resume.retry_pipeline_arn == "p"

    run = interrupted.Interruption("r1", "training", "m", "arn:x", "WaitForTrainingPipeline", {})
    at = datetime(2026, 12, 6, tzinfo=UTC)
    message = alert_messages.validate_python(interrupted.alert_message(run, interrupted.cause_of(run, at), at))
    alert = alert_for(message, REGION, "mlrelay")
    assert message.error == INTERRUPTED_ERROR
    assert alert.title == "⏸ training run interrupted at WaitForTrainingPipeline"
    assert "mlrelay runs resume r1" in " ".join(alert.actions) and "mlrelay runs resume r1" in alert.detail
