"""The training state machine as the emulator executes it: success, and failure into the failure path."""

import json
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
