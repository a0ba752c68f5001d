"""The training state machine as the emulator executes it: success, and failure into the failure path."""

import json

import pytest

from tests.conftest import valid_config
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
    assert aws.run_record("train-vanished-manual")["status"] == "FAILED"
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == ["RecordRunStarted", "LoadTrainingConfig", "ReportFailure", "MarkRunFailed", "RunFailed"]
