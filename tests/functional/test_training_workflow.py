"""The training state machine as the emulator executes it: success, and failure into the failure path."""

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.conftest import valid_config
from tests.functional.conftest import ONE_CLASS_CAUSE, ONE_CLASS_URI
from tests.state_machines import lint

pytestmark = pytest.mark.functional


def test_the_deployed_definitions_pass_statelint(stack):
    definitions = stack.applied.state_machine_definitions

    assert definitions
    for logical_id, definition in definitions.items():
        assert "${" not in definition, f"{logical_id} has an unsubstituted placeholder"
        assert lint(definition) == [], logical_id


def test_a_step_that_fails_is_caught_reported_and_recorded(aws):
    # GIVEN a run whose config version no longer exists
    aws.s3.put_object(Bucket=aws.bucket, Key="configs/train/vanished.json", Body=json.dumps(valid_config()))
    aws.stack.runtime.wait_idle()
    run_input = {
        "run_id": "train-vanished-manual",
        "workflow": "training",
        "model_name": "packaging-type",
        "config": {"bucket": aws.bucket, "key": "configs/train/vanished.json", "version_id": "no-such-version"},
        "requested_at": "2026-11-23T03:00:00Z",
        "callback_timeout_seconds": None,
    }

    # WHEN the training workflow runs
    aws.sfn.start_execution(stateMachineArn=aws.training_arn, name="train-vanished-manual", input=json.dumps(run_input))
    (run,) = aws.runs("train-vanished-manual")

    # THEN it fails, names the step's error, and the failure path has it
    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert execution["status"] == "FAILED"
    assert execution["error"] == "NotFoundError"
    assert "no longer exists" in execution["cause"]
    (message,) = aws.failures_for(lambda m: m.get("run_id") == "train-vanished-manual")
    assert message["kind"] == "step_failed"
    assert message["error"] == "NotFoundError"
    assert message["execution_arn"] == run["executionArn"]
    record = aws.run_record("train-vanished-manual")
    assert record["status"] == "FAILED" and record["failed_state"] == "LoadTrainingConfig"
    assert json.loads(record["resume_input"])["config"]["version_id"] == "no-such-version"  # where a resume re-enters
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == [
        "StartOrResume", "RecordRunStarted", "LoadTrainingConfig", "LoadTrainingConfigFailed", "ReportFailure", "MarkRunFailed",
        "FailureKind", "RunFailed",
    ]
    assert message["state"] == "LoadTrainingConfig"


def test_a_one_class_table_fails_the_run_at_split_naming_the_class_and_its_count(aws):
    document = valid_config(model_name="failing-script")
    document["data"] = {**document["data"], "uri": ONE_CLASS_URI}

    aws.drop("configs/train/failing-script.json", json.dumps(document).encode())

    (run,) = aws.runs("train-failing-script-")
    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert execution["status"] == "FAILED"
    assert execution["error"] == "PipelineFailed"
    assert ONE_CLASS_CAUSE in execution["cause"]  # before: Approved with macro_f1 1.0 by a model that accepts one class
    (message,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert ONE_CLASS_CAUSE in message["cause"]
    assert message["state"] == "WaitForTrainingPipeline"
    assert aws.stack.pipelines.step_runs_for(run["name"]) == ["Split"]  # nothing ran after the failed step


def test_a_lost_pipeline_event_ends_the_run_by_its_timeout(aws):
    aws.s3.put_object(Bucket=aws.bucket, Key="configs/manual/lost-event.json", Body=json.dumps(valid_config()))
    version = aws.s3.head_object(Bucket=aws.bucket, Key="configs/manual/lost-event.json")["VersionId"]
    run_input = {
        "run_id": "train-lost-event", "workflow": "training", "model_name": "packaging-type",
        "config": {"bucket": aws.bucket, "key": "configs/manual/lost-event.json", "version_id": version},
        "requested_at": "2026-11-23T03:00:00Z", "callback_timeout_seconds": 3,
    }
    aws.stack.faults.lose_status_events("train-lost-event")

    aws.sfn.start_execution(stateMachineArn=aws.training_arn, name="train-lost-event", input=json.dumps(run_input))
    (run,) = aws.runs("train-lost-event", timeout=60)
    aws.stack.pipelines.wait_idle()

    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert execution["status"] == "FAILED"
    assert execution["error"] == "WorkflowError"
    assert execution["cause"].startswith("States.Timeout")
    (message,) = aws.failures_for(lambda m: m.get("run_id") == "train-lost-event")
    assert message["error"] == "States.Timeout"


def test_a_pipeline_that_ends_before_its_workflow_waits_still_completes_the_run(aws):
    aws.stack.faults.end_pipeline_early("train-fast-pipeline-")

    aws.drop("configs/train/fast-pipeline.json", json.dumps(valid_config(model_name="fast-pipeline")).encode())
    (run,) = aws.runs("train-fast-pipeline-")

    assert run["status"] == "SUCCEEDED"
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[4:8] == ["WaitForTrainingPipeline", "ReadPipelineOutcome", "PipelineSucceeded", "EvaluateCandidate"]


def test_a_step_function_past_its_timeout_fails_the_run_as_lambda_would(aws):
    # GIVEN a training step function of a 1 s timeout, and the config read taking 3 s
    key = "configs/train/slow-config.json"
    put = aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=json.dumps(valid_config(model_name="slow-config")))
    aws.stack.runtime.wait_idle()
    step = aws.stack.info.functions["training_step"]
    original = aws.stack.runtime.functions[step]
    aws.stack.runtime.functions[step] = replace(original, timeout_seconds=1)
    slow = aws.stack.faults.slow_reads(aws.bucket, key, seconds=3)
    run_input = {"run_id": "train-slow-config-manual", "workflow": "training", "model_name": "slow-config",
                 "config": {"bucket": aws.bucket, "key": key, "version_id": put["VersionId"]},
                 "requested_at": "2026-11-23T03:00:00Z", "callback_timeout_seconds": None}
    try:
        # WHEN the training workflow runs
        aws.sfn.start_execution(stateMachineArn=aws.training_arn, name="train-slow-config-manual", input=json.dumps(run_input))
        (run,) = aws.runs("train-slow-config-manual")
    finally:
        aws.stack.runtime.functions[step] = original
        aws.stack.faults.remove(slow)

    # THEN the state machine sees Lambda's own timeout error, which its Retry does not retry, and the run fails with it
    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert (execution["status"], execution["error"]) == ("FAILED", "Sandbox.Timedout")
    assert "Task timed out after 1.00 seconds" in execution["cause"]
    assert aws.run_record("train-slow-config-manual")["failed_state"] == "LoadTrainingConfig"
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    lambda_attempts = [e for e in history if e.get("taskScheduledEventDetails", {}).get("resourceType") == "lambda"]
    assert len(lambda_attempts) == 1  # Sandbox.Timedout is not among the transient errors the step retries


def _status_event(aws, pipeline_execution_arn):
    """The pipeline's status-change event as EventBridge delivers it, from its execution's real status."""
    sagemaker = aws.stack.client("sagemaker")
    status = sagemaker.describe_pipeline_execution(PipelineExecutionArn=pipeline_execution_arn)["PipelineExecutionStatus"]
    event = json.loads((aws.stack.project_root / "events" / "on_pipeline_status.json").read_text())
    event["detail"].update(pipelineExecutionArn=pipeline_execution_arn, pipelineArn=pipeline_execution_arn.split("/execution/")[0],
                           currentPipelineExecutionStatus=status)
    return event


def _stop_left_running(aws, prefix):
    """A failed test's run would wait for its callback timeout (hours), and keep the session's stack from settling."""
    for execution in aws.sfn.list_executions(stateMachineArn=aws.training_arn, statusFilter="RUNNING")["executions"]:
        if execution["name"].startswith(prefix):
            aws.sfn.stop_execution(executionArn=execution["executionArn"], error="TestEnded")


def _answers_to_the_wait(aws, run):
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
    details = ("taskSucceededEventDetails", "taskFailedEventDetails", "taskTimedOutEventDetails")
    return [e["type"] for e in history
            if any(e.get(name, {}).get("resource") == "updateItem.waitForTaskToken" for name in details)]


def test_two_status_events_at_once_answer_the_waiting_workflow_once(aws):
    # GIVEN a run waiting for its pipeline, whose own status event was lost
    lost = aws.stack.faults.lose_status_events("train-twin-events-")
    try:
        aws.drop_training_config("twin-events")
        pipeline = aws.waiting_for_pipeline("train-twin-events-")
        aws.stack.pipelines.wait_idle()
        event = _status_event(aws, pipeline)
        # WHEN two deliveries of the event are handled at the same moment
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: aws.invoke("on_pipeline_status", event), range(2)))
        (run,) = aws.runs("train-twin-events-")
    finally:
        aws.stack.faults.remove(lost)
        _stop_left_running(aws, "train-twin-events-")

    # THEN one delivered the outcome, the other found it claimed; the workflow got one answer and went on
    assert sorted(a["outcome"] for a in answers) == ["delivered", "duplicate"]
    assert run["status"] == "SUCCEEDED"
    assert _answers_to_the_wait(aws, run) == ["TaskSucceeded"]


def test_a_callback_refused_once_is_delivered_by_lambdas_retry_of_the_event(aws):
    # GIVEN a run waiting for its pipeline (its status event held back), and Step Functions refusing the first answer
    lost = aws.stack.faults.lose_status_events("train-refused-answer-")
    refused = aws.stack.faults.refuse_callbacks("train-refused-answer-", "InvalidOutput", times=1)
    function = aws.stack.info.functions["on_pipeline_status"]
    try:
        aws.drop_training_config("refused-answer")
        pipeline = aws.waiting_for_pipeline("train-refused-answer-")
        aws.stack.pipelines.wait_idle()
        # WHEN the status event arrives, as EventBridge invokes: asynchronously, retried on error
        aws.lambda_.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(_status_event(aws, pipeline)).encode())
        (run,) = aws.runs("train-refused-answer-")
    finally:
        aws.stack.faults.remove(lost)
        aws.stack.faults.remove(refused)
        _stop_left_running(aws, "train-refused-answer-")

    # THEN the first attempt failed and gave its claim back, and the retry delivered: the run did not wait for its timeout
    attempts = [i for i in aws.stack.runtime.invocations if i.function_name == function and pipeline in json.dumps(i.event)]
    assert [(i.attempt, i.succeeded) for i in attempts] == [(1, False), (2, True)]
    assert "InvalidOutput" in attempts[0].error
    assert [f.error for f in aws.stack.faults.fired_in("train-refused-answer-", "callback")] == ["InvalidOutput"]
    assert run["status"] == "SUCCEEDED"
    assert _answers_to_the_wait(aws, run) == ["TaskSucceeded"]


def test_stopping_a_run_that_waits_for_its_pipeline_aborts_it_at_once(aws):
    lost = aws.stack.faults.lose_status_events("train-stopped-wait-")
    try:
        aws.drop_training_config("stopped-wait")
        aws.waiting_for_pipeline("train-stopped-wait-")
        (waiting,) = [e for e in aws.sfn.list_executions(stateMachineArn=aws.training_arn, statusFilter="RUNNING")["executions"]
                      if e["name"].startswith("train-stopped-wait-")]

        aws.sfn.stop_execution(executionArn=waiting["executionArn"], error="Operator.Stop", cause="stopped by hand")
        aws.settle()  # would time out while the stopped run went on waiting
    finally:
        aws.stack.faults.remove(lost)
        _stop_left_running(aws, "train-stopped-wait-")

    (run,) = aws.runs("train-stopped-wait-")
    assert run["status"] == "ABORTED"
