"""GIVEN the alerts consumer on the failures and notifications queues, THEN people hear once."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import valid_config
from tests.functional.conftest import ONE_CLASS_CAUSE, ONE_CLASS_URI

pytestmark = pytest.mark.functional


def test_a_failed_step_alerts_once_naming_the_step_the_cause_and_the_resume_command(aws):
    document = valid_config(model_name="alert-failing")
    document["data"] = {**document["data"], "uri": ONE_CLASS_URI}
    aws.drop("configs/train/alert-failing.json", json.dumps(document).encode())
    (run,) = aws.runs("train-alert-failing-")

    (post,) = aws.slack_posts(run["name"])

    assert post["text"] == "❌ training run failed at WaitForTrainingPipeline"
    text = json.dumps(post, ensure_ascii=False)
    assert ONE_CLASS_CAUSE in text
    assert f"mlrelay runs resume {run['name']}" in text
    assert aws.sns_messages("training run failed at WaitForTrainingPipeline")


def test_slack_answering_429_then_200_gets_one_post_after_waiting(aws):
    attempts_before = aws.stack.slack.attempts
    aws.stack.faults.fail_slack(429, retry_after=1)
    started = time.monotonic()

    aws.drop("configs/train/rate-limited.json", b'{"schema_version": 1}')
    posts = aws.slack_posts("configs/train/rate-limited.json")

    assert len(posts) == 1
    assert aws.stack.slack.attempts - attempts_before == 2
    assert time.monotonic() - started >= 1.0  # the Retry-After was honoured


def test_repeats_of_the_same_failure_collapse_into_one_alert(aws):
    failure = {
        "kind": "step_failed", "workflow": "training", "run_id": "train-repeated-1", "model_name": "alert-repeated",
        "state": "LoadTrainingConfig", "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:x:train-repeated-1",
        "error": "NotFoundError", "cause": "gone", "occurred_at": "2026-11-23T03:00:00Z",
    }
    queue = aws.stack.info.outputs["FailuresQueueUrl"]

    for _ in range(3):
        aws.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(failure))
    assert len(aws.failures_for(lambda m: m.get("run_id") == "train-repeated-1")) >= 1
    aws.settle()  # all three consumed

    assert len(aws.slack_posts("train-repeated-1", timeout=1)) == 1
    record = aws.dynamodb.get_item(
        TableName=aws.stack.applied.ref("AlertsTable"),
        Key={"collapse_key": {"S": "failed|training|alert-repeated|LoadTrainingConfig|NotFoundError"}},
    )["Item"]
    assert len(record["message_ids"]["SS"]) == 3 and set(record["delivered"]["SS"]) == {"slack", "sns"}


def test_another_run_failing_the_same_way_is_named_by_a_later_post_and_a_resumed_runs_failure_by_its_own(aws):
    def failure(run_id: str, execution: str) -> str:
        return json.dumps({
            "kind": "step_failed", "workflow": "training", "run_id": run_id, "model_name": "alert-folded",
            "state": "LoadTrainingConfig", "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:x:{execution}",
            "error": "NotFoundError", "cause": "gone", "occurred_at": "2026-11-23T03:00:00Z",
        })
    queue = aws.stack.info.outputs["FailuresQueueUrl"]

    aws.sqs.send_message(QueueUrl=queue, MessageBody=failure("train-folded-1", "train-folded-1"))
    assert aws.slack_posts("train-folded-1")
    aws.sqs.send_message(QueueUrl=queue, MessageBody=failure("train-folded-2", "train-folded-2"))
    aws.sqs.send_message(QueueUrl=queue, MessageBody=failure("train-folded-1", "train-folded-1-r1"))

    (named,) = aws.slack_posts("train-folded-2", timeout=30)  # after the fold's delay, a post naming the folded run
    assert named["text"] == "❌ 1 more training run failed at LoadTrainingConfig"
    assert "mlrelay runs resume train-folded-2" in json.dumps(named)
    resumed = [post for post in aws.slack_posts("train-folded-1-r1") if post["text"].startswith("❌ training run failed")]
    assert len(resumed) == 1 and "mlrelay runs resume train-folded-1" in json.dumps(resumed[0])


def test_a_trigger_that_keeps_failing_reaches_the_failure_path_through_its_destination(aws):
    function = aws.stack.info.functions["on_pipeline_status"]
    status = {
        "version": "0", "id": "lost-1", "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "source": "aws.sagemaker", "account": "123456789012", "time": "2026-11-23T03:12:44Z", "region": "us-east-1",
        "resources": [], "detail": {
            "currentPipelineExecutionStatus": "Failed", "previousPipelineExecutionStatus": "Executing",
            "pipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlrelay-dev-training",
            "pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlrelay-dev-training/execution/nosuchexec1",
        },
    }

    aws.lambda_.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(status).encode())
    aws.stack.runtime.wait_idle()

    attempts = [i for i in aws.stack.runtime.invocations if i.function_name == function and i.event == status]
    assert len(attempts) == 3 and not any(i.succeeded for i in attempts)  # it parses, so Lambda retries it twice
    (record,) = aws.failures_for(lambda m: m.get("requestPayload") == status)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    # one post for this event (another test's failure of the same function may have posted before)
    posts = aws.slack_posts("mlrelay-dev-on_pipeline_status failed after 3 attempts")
    assert len([p for p in posts if "nosuchexec1" in json.dumps(p)]) == 1


def test_a_storm_of_unreadable_events_is_a_handful_of_posts_and_every_event_is_counted_once(aws):
    function = aws.stack.info.functions["on_config_dropped"]
    broken_event = {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {}}}
    storm = 200

    for _ in range(storm):
        aws.lambda_.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(broken_event).encode())
    aws.stack.runtime.wait_idle()

    attempts = [i for i in aws.stack.runtime.invocations if i.function_name == function and i.event == broken_event]
    assert len(attempts) == storm and all(i.succeeded for i in attempts)  # an event that cannot parse is not retried
    rejected = aws.failures_for(lambda m: m.get("kind") == "event_rejected" and m.get("function") == "on_config_dropped", at_least=storm)
    assert len(rejected) == storm
    key = "event|on_config_dropped|S3ObjectCreatedEvent"
    aws.settle()  # the consumer paces Slack: every message counted
    item = aws.dynamodb.get_item(TableName=aws.stack.applied.ref("AlertsTable"), Key={"collapse_key": {"S": key}})["Item"]
    assert len(item["message_ids"]["SS"]) == storm
    posts = [p["text"] for p in aws.slack_posts("got an event it cannot read", timeout=5)]
    assert sorted(posts) == sorted(["❌ on_config_dropped got an event it cannot read",
                                    "❌ on_config_dropped got an event it cannot read ×10",
                                    "❌ on_config_dropped got an event it cannot read ×100"])
    assert len(aws.sns_messages("got an event it cannot read")) == 3


def test_slack_down_retries_the_message_then_keeps_it_in_the_dead_letter_queue(aws):
    failure = {
        "kind": "step_failed", "workflow": "training", "run_id": "train-slack-down-1", "model_name": "alert-slack-down",
        "state": "EvaluateCandidate", "error": "ValueError", "cause": "boom", "occurred_at": "2026-11-23T03:00:00Z",
    }
    queue, dead_letters = aws.failures_url, aws.stack.applied.ref("FailuresDeadLetterQueue")
    visibility = aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])["Attributes"]
    attempts_before = aws.stack.slack.attempts
    aws.sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})  # retry within seconds
    slack_down = aws.stack.faults.fail_slack(503, times=None)
    time.sleep(1.5)  # the poller's current long poll read the old visibility timeout when it began
    try:
        aws.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(failure))
        deadline, parked = time.monotonic() + 90, []
        while not parked and time.monotonic() < deadline:
            parked = aws.sqs.receive_message(
                QueueUrl=dead_letters, AttributeNames=["All"], WaitTimeSeconds=1, VisibilityTimeout=0
            ).get("Messages", [])
    finally:
        aws.stack.faults.remove(slack_down)
        aws.sqs.set_queue_attributes(QueueUrl=queue, Attributes=visibility)

    (message,) = parked
    assert json.loads(message["Body"]) == failure
    deliveries = [
        i for i in aws.stack.runtime.invocations
        if i.function_name == aws.stack.info.functions["alerts"] and "train-slack-down-1" in json.dumps(i.event)
    ]
    assert len(deliveries) == 5 and not any(i.succeeded for i in deliveries)  # the queue's maxReceiveCount
    assert aws.stack.slack.attempts - attempts_before >= 5
    assert aws.slack_posts("train-slack-down-1", timeout=0) == []
    assert len(aws.sns_messages("train-slack-down-1")) == 1  # SNS took it once; only Slack was retried


def test_a_models_notification_settings_decide_who_hears_what(aws):
    quiet = {"slack": False, "sns": True, "notify_on": ["failure"]}
    aws.drop_training_config("alert-quiet", notifications=quiet)
    aws.stack.runtime.wait_idle()
    (promoted,) = aws.runs("train-alert-quiet-")
    document = valid_config(model_name="alert-quiet", notifications=quiet, inference={"daily": False, "monthly": False})
    document["data"] = {**document["data"], "uri": ONE_CLASS_URI}
    aws.drop("configs/train/alert-quiet.json", json.dumps(document).encode())
    (failed,) = [r for r in aws.runs("train-alert-quiet-") if r["name"] != promoted["name"]]

    assert (promoted["status"], failed["status"]) == ("SUCCEEDED", "FAILED")
    assert aws.notifications_for(lambda m: m.get("run_id") == promoted["name"])  # the notice was sent ...
    assert aws.sns_messages(failed["name"])  # ... the failure reached SNS ...
    assert aws.slack_posts("alert-quiet", timeout=2) == []  # ... and nothing reached Slack, as the config asks
    assert aws.sns_messages("alert-quiet v1 promoted", timeout=1) == []  # nor was the promotion announced


def test_an_alarm_of_the_stack_reaches_people_through_the_failures_queue(aws):
    name = f"mlrelay-{aws.stack.stage}-failures-dead-letters"
    detail = {"alarmName": name, "state": {"value": "ALARM", "reason": "Threshold Crossed: 1 datapoint [2.0]"},
              "previousState": {"value": "OK"}, "configuration": {"description": "Messages are waiting in the dead-letter queue."}}
    others = {**detail, "alarmName": "someone-elses-alarm"}

    aws.stack.client("events").put_events(Entries=[
        {"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change", "Detail": json.dumps(d)} for d in (detail, others)
    ])

    (post,) = aws.slack_posts(name)
    assert post["text"] == f"🚨 alarm {name}: ALARM"
    assert "Threshold Crossed" in json.dumps(post)
    assert aws.sns_messages(f"alarm {name}: ALARM")
    aws.settle()
    assert not aws.slack_posts("someone-elses-alarm", timeout=0)  # the rule matches the stack's own alarms only


def test_two_consumers_that_meet_an_ended_window_at_once_post_it_once(aws):
    # GIVEN a failure whose last window of alerts has ended
    table, key = aws.stack.applied.ref("AlertsTable"), "event|race_function|RaceEvent"
    aws.dynamodb.put_item(TableName=table, Item={"collapse_key": {"S": key}, "window_ends": {"N": "1"},
                                                  "message_ids": {"SS": ["before"]}, "delivered": {"SS": ["slack", "sns"]}})
    template = json.loads((aws.stack.project_root / "events" / "alerts.json").read_text())["Records"][0]

    def delivery(number):
        body = {"kind": "event_rejected", "function": "race_function", "expected": "RaceEvent", "problems": ["detail: missing"],
                "event_excerpt": "{}", "occurred_at": "2026-12-06T03:00:00Z"}
        return {"Records": [{**template, "messageId": f"race-{number}", "body": json.dumps(body)}]}

    # WHEN two consumers take a message of it at the same moment, both having found the window ended
    held = aws.stack.faults.hold_writes(table, "window_ends = :seen", parties=2)
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda number: aws.invoke("alerts", delivery(number)), range(2)))
    finally:
        aws.stack.faults.remove(held)
    aws.settle()

    # THEN one opened the new window and posted; the other's message joined it
    item = aws.dynamodb.get_item(TableName=table, Key={"collapse_key": {"S": key}})["Item"]
    assert answers == [{"batchItemFailures": []}] * 2
    assert [f.kind for f in aws.stack.faults.fired if f.run == table] == ["hold", "hold"]
    assert set(item["message_ids"]["SS"]) == {"race-0", "race-1"} and set(item["delivered"]["SS"]) == {"slack", "sns"}
    assert len(aws.slack_posts("race_function got an event it cannot read", timeout=0)) == 1
    assert len(aws.sns_messages("race_function got an event it cannot read", timeout=0)) == 1
