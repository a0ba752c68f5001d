"""The trigger, the pipeline callback, resuming, the alerts consumer and the step ledger, run on in-memory fakes."""

import json
from datetime import UTC, datetime

import pytest

from chalicelib.alerts.handler import AlertNotDeliveredError, AlertQueueRecord, deliver
from chalicelib.aws.errors import AwsError
from chalicelib.intake.handler import process_dropped_config
from chalicelib.intake.plan import DroppedObject
from chalicelib.pipeline_status.handler import answer_waiting_workflow
from chalicelib.pipeline_status.plan import PipelineStatusDetail
from chalicelib.resume.handler import ResumeRequest, resume_run
from chalicelib.shared.runs import RunRecord
from chalicelib.shared.step_ledger import recorded
from tests.conftest import valid_config
from tests.unit.fakes import FakePipelineExecution, FakePorts

WHEN = datetime(2026, 11, 23, 8, tzinfo=UTC)
CATALOGUE_HEADER = b"item_id,added_at,category,material,length_cm,width_cm,height_cm,weight_g,fragile,price,package_type\n"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e1"


def with_catalogue(ports):
    """The table the example config trains on, as far as the trigger reads it: its header."""
    ports.s3.put("mlrelay-demo-data", "catalogue/train.csv", CATALOGUE_HEADER + b"I-1,2026-11-01,toys,paper,1,2,3,40,0,9.5,BOX\n")
    return ports


def dropped(ports, key, body):
    version = ports.s3.put("b", key, body)
    return DroppedObject("b", key, version, "etag", len(body), WHEN)


def test_a_valid_config_starts_one_run_however_often_it_is_handled():
    ports = with_catalogue(FakePorts())
    upload = dropped(ports, "configs/train/packaging-type.json", json.dumps(valid_config()).encode())

    first = process_dropped_config(upload, ports)
    again = process_dropped_config(upload, ports)

    assert (first["outcome"], again["outcome"]) == ("started", "already_started")
    (run_input,) = ports.workflows.started.values()
    assert run_input["run_id"] == first["run_id"] and run_input["config"]["version_id"] == upload.version_id
    assert ports.failures.messages == []


def test_a_bad_config_starts_nothing_writes_a_report_beside_it_and_tells_the_failure_path():
    ports = FakePorts()
    upload = dropped(ports, "configs/train/bad.json", json.dumps({**valid_config(), "colour": "red"}).encode())

    outcome = process_dropped_config(upload, ports)

    assert outcome["outcome"] == "rejected" and ports.workflows.started == {}
    report = ports.s3.read_json("b", "configs/train/bad.json.error.json", 10_000)
    assert [p["path"] for p in report["problems"]] == ["colour"]
    (message,) = ports.failures.messages
    assert message["kind"] == "config_rejected" and message["problems"][0]["path"] == "colour"


def test_a_status_event_answers_the_waiting_workflow_once():
    ports = FakePorts()
    ports.pipeline_callbacks.items[PIPELINE] = {"task_token": "token-1"}
    detail = PipelineStatusDetail(pipelineArn="p", pipelineExecutionArn=PIPELINE, currentPipelineExecutionStatus="Succeeded")

    first = answer_waiting_workflow(detail, ports)
    duplicate = answer_waiting_workflow(detail, ports)

    assert (first["outcome"], duplicate["outcome"]) == ("delivered", "duplicate")
    assert ports.task_callbacks.answers == {"token-1": ("success", {"pipeline_execution_arn": PIPELINE, "status": "Succeeded"})}


def test_a_callback_that_fails_gives_its_claim_back_so_that_the_retry_delivers():
    ports = FakePorts()
    ports.pipeline_callbacks.items[PIPELINE] = {"task_token": "token-1"}
    detail = PipelineStatusDetail(pipelineArn="p", pipelineExecutionArn=PIPELINE, currentPipelineExecutionStatus="Succeeded")
    answer = ports.task_callbacks.succeed

    def denied(token, output):
        raise AwsError("SendTaskSuccess: AccessDeniedException", "AccessDeniedException")

    ports.task_callbacks.succeed = denied
    with pytest.raises(AwsError):
        answer_waiting_workflow(detail, ports)
    ports.task_callbacks.succeed = answer  # Lambda retries the event once the cause is gone

    assert answer_waiting_workflow(detail, ports)["outcome"] == "delivered"
    assert ports.task_callbacks.answers == {"token-1": ("success", {"pipeline_execution_arn": PIPELINE, "status": "Succeeded"})}


def test_a_pipeline_that_ends_before_its_workflow_waits_leaves_its_outcome_for_the_workflow():
    ports = FakePorts()
    ports.pipelines.executions[PIPELINE] = FakePipelineExecution(status="Failed", failure_reason="step Train: AlgorithmError")
    detail = PipelineStatusDetail(pipelineArn="p", pipelineExecutionArn=PIPELINE, currentPipelineExecutionStatus="Failed")

    assert answer_waiting_workflow(detail, ports)["outcome"] == "recorded"
    assert ports.pipeline_callbacks.items[PIPELINE] == {"pipeline_status": "Failed", "failure_reason": "step Train: AlgorithmError"}
    assert ports.task_callbacks.answers == {}


def failed_run(ports, state, extra=None):
    resume_input = {"run_id": "train-pt-1", "workflow": "training", "model_name": "pt", "failure": {"Error": "E"}, **(extra or {})}
    ports.runs.runs["train-pt-1"] = RunRecord(
        "train-pt-1", "training", "FAILED", failed_state=state, resume_input=json.dumps(resume_input),
        failed_execution_arn="arn:aws:states:us-east-1:123456789012:execution:mlrelay-test-training:train-pt-1",
    )


def test_a_failed_run_resumes_at_its_failed_step_once():
    ports = FakePorts()
    failed_run(ports, "EvaluateCandidate")

    answer = resume_run(ResumeRequest(run_id="train-pt-1"), ports)
    again = resume_run(ResumeRequest(run_id="train-pt-1"), ports)

    assert (answer["outcome"], answer["from_state"], answer["attempt"]) == ("resumed", "EvaluateCandidate", 1)
    assert again["outcome"] == "refused" and "still running" in again["message"]
    ((arn, run_input),) = ports.workflows.started.items()
    assert arn.endswith(":train-pt-1-r1") and run_input["resume"]["from"] == "EvaluateCandidate"
    assert "failure" not in run_input  # what the failure path added is not the step's input
    assert ports.runs.get("train-pt-1").status == "RUNNING"


def test_a_run_that_failed_in_its_pipeline_retries_the_pipeline_from_its_failed_step():
    ports = FakePorts()
    ports.pipelines.executions[PIPELINE] = FakePipelineExecution(status="Failed", failure_reason="step Train: boom")
    ports.pipeline_callbacks.items[PIPELINE] = {"pipeline_status": "Failed", "task_token": "old"}
    failed_run(ports, "WaitForTrainingPipeline", {"pipeline": {"execution_arn": PIPELINE}})

    answer = resume_run(ResumeRequest(run_id="train-pt-1"), ports)

    assert answer["retried_pipeline_execution_arn"] == PIPELINE
    assert len(ports.pipelines.executions[PIPELINE].retries) == 1
    assert PIPELINE not in ports.pipeline_callbacks.items  # the retry is waited for afresh


def test_an_unknown_run_is_named():
    assert resume_run(ResumeRequest(run_id="train-nope"), FakePorts()) == {
        "outcome": "not_found", "message": "no run train-nope in the ledger; `mlrelay runs list` shows the runs",
    }


FAILURE = {
    "kind": "step_failed", "workflow": "training", "run_id": "train-pt-1", "model_name": "pt", "state": "Train",
    "error": "E", "cause": "boom", "occurred_at": "2026-11-23T03:00:00Z",
}


def record(message_id, body=FAILURE):
    return AlertQueueRecord.model_validate({"messageId": message_id, "body": json.dumps(body)})


def test_with_slack_down_sns_is_still_told_and_the_retry_sends_only_to_slack():
    ports = FakePorts()
    ports.slack.down = True

    with pytest.raises(AlertNotDeliveredError):
        deliver(record("m-1"), ports, "us-east-1")
    ports.slack.down = False
    deliver(record("m-1"), ports, "us-east-1")

    assert len(ports.topic.published) == 1 and len(ports.slack.posts) == 1


def test_repeats_of_one_failure_are_one_alert():
    ports = FakePorts()

    for message_id in ("m-1", "m-2", "m-3"):
        deliver(record(message_id), ports, "us-east-1")

    assert len(ports.slack.posts) == 1 and len(ports.topic.published) == 1
    (entry,) = ports.alert_ledger.items.values()
    assert entry.message_ids == {"m-1", "m-2", "m-3"}


def test_a_run_folded_into_an_earlier_runs_alert_is_named_with_its_resume_command_by_a_later_post():
    ports = FakePorts()
    second = {**FAILURE, "run_id": "train-pt-2"}

    deliver(record("m-1"), ports, "us-east-1")
    deliver(record("m-2", second), ports, "us-east-1")  # the same failure of another run: folded, a naming post queued
    deliver(record("m-3", second), ports, "us-east-1")  # its retry: no second naming post
    ((naming, delay),) = zip(ports.failures.messages, ports.failures.delays, strict=True)
    deliver(record("m-4", naming), ports, "us-east-1")  # the delayed post arrives
    deliver(record("m-4", naming), ports, "us-east-1")  # and again (SQS delivers at least once): nothing more

    assert delay == 900 and naming["kind"] == "folded_runs"
    assert [post["text"] for post in ports.slack.posts] == ["❌ training run failed at Train", "❌ 1 more training run failed at Train"]
    assert "runs resume train-pt-2`" in json.dumps(ports.slack.posts[1])
    (entry,) = ports.alert_ledger.items.values()
    assert entry.named == {"train-pt-1", "train-pt-2"}


def test_a_resumed_run_failing_again_the_same_way_is_told_in_a_post_of_its_own():
    ports = FakePorts()
    resumed = {**FAILURE, "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:mlrelay-dev-training:train-pt-1-r1"}

    deliver(record("m-1"), ports, "us-east-1")
    deliver(record("m-2", resumed), ports, "us-east-1")
    deliver(record("m-2", resumed), ports, "us-east-1")  # its retry is not told twice

    assert len(ports.slack.posts) == 2 and len(ports.topic.published) == 2


def test_a_step_that_already_succeeded_with_the_same_input_returns_its_recorded_output():
    ports = FakePorts()
    event = {"step": "load_config", "run_id": "train-pt-1", "model_name": "pt"}
    calls = []

    def work():
        calls.append(1)
        return {"n": len(calls)}

    first = recorded(ports, event, work)
    again = recorded(ports, event, work)
    other = recorded(ports, {**event, "x": 1}, work)

    assert first == again == {"n": 1} and other == {"n": 2}
    assert ports.runs.step("train-pt-1", "load_config")["attempts"] == 2


def test_a_large_step_output_is_kept_under_the_runs_model_and_read_back_from_there():
    ports = FakePorts()
    event = {"step": "plan_segments", "run_id": "segments-pt-1", "model_name": "pt"}
    large = {"segments": ["x" * 1000] * 100}  # over what the ledger item holds

    recorded(ports, event, lambda: large)

    entry = ports.runs.step("segments-pt-1", "plan_segments")
    assert entry["output_uri"] == f"s3://{ports.artifact_bucket}/runs/pt/segments-pt-1/steps/plan_segments.json"
    assert recorded(ports, event, lambda: {}) == large


def test_a_models_notification_settings_choose_the_channels_and_kinds():
    ports = FakePorts()
    ports.preferences.put("pt", {"slack": False, "sns": True, "notify_on": ["failure"]})
    promoted = {
        "kind": "model_promoted", "run_id": "train-pt-2", "model_name": "pt", "version": 2, "model_package_arn": "arn:p/2",
        "primary_metric": "rmse", "score": 50.0, "baseline_version": 1, "baseline_score": 51.0, "deltas": {}, "reasons": [],
        "occurred_at": "2026-11-23T03:00:00Z",
    }

    deliver(record("m-1"), ports, "us-east-1")  # a failure: asked for, by SNS only
    deliver(record("m-2", promoted), ports, "us-east-1")  # a promotion: not asked for

    assert ports.slack.posts == []
    assert [subject for subject, _ in ports.topic.published] == ["training run failed at Train"]


def test_the_trigger_records_who_hears_about_the_model():
    ports = with_catalogue(FakePorts())
    document = {**valid_config(), "notifications": {"slack": True, "sns": False, "notify_on": ["failure", "inference"]}}

    process_dropped_config(dropped(ports, "configs/train/packaging-type.json", json.dumps(document).encode()), ports)

    assert ports.preferences.get("packaging-type") == {"slack": True, "sns": False, "notify_on": ["failure", "inference"]}
