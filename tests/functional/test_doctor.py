"""`mlrelay doctor` on the session's stack, by both paths (the embedded stack's state file, and `--stage dev`
through CloudFormation as a deployed stack is reached), healthy and with faults a team meets."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.warehouse_client import connection_from, result_table, run_statement

pytestmark = pytest.mark.functional
runner = CliRunner()
DAILY_RULE = "mlrelay-dev-inference-daily"
QUALITY_PIPELINE = "mlrelay-dev-quality"


@pytest.fixture
def state_file(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(stack.info)
    initialized = runner.invoke(app, ["warehouse", "init"])  # what a team runs once per stage (README)
    assert initialized.exit_code == 0, initialized.output


def doctor(*args: str, stage: str | None = None) -> tuple[int, list[str], str]:
    result = runner.invoke(app, [*(["--stage", stage] if stage else []), "doctor", *args], terminal_width=400)
    lines = [line for line in result.output.splitlines() if line.startswith(("✓", "✗"))]
    return result.exit_code, lines, result.output


def test_a_healthy_stack_passes_every_check_by_both_paths(state_file, stack):
    stack.settle()
    for stage in (None, "dev"):
        code, lines, output = doctor(stage=stage)

        assert code == 0, output
        assert lines and all(line.startswith("✓") for line in lines), output
        assert "✓ stack mlrelay-dev is CREATE_COMPLETE" in lines
        assert "✓ bucket mlrelay-dev-123456789012-us-east-1 sends its events to EventBridge" in lines
        assert len([line for line in lines if line.startswith("✓ rule mlrelay-dev-")]) == 9
        assert "✓ rule mlrelay-dev-train-config-dropped is ENABLED and targets mlrelay-dev-on_config_dropped" in lines
        assert any(re.match(r"✓ 9 functions exist, each with the deployed code \(sha256 \S+…\)", line) for line in lines)
        assert "✓ Slack webhook parameter /mlrelay/dev/slack-webhook-url is set" in lines
        assert "✓ the predictions table mlrelay.predictions has the 9 expected columns" in lines
        for name in ("training", "inference", "quality"):
            assert f"✓ pipeline mlrelay-dev-{name} matches pipelines/{name}.pipeline.json" in lines
        assert any(line.startswith("✓ the images resolve in us-east-1: processing") for line in lines)
        assert any(re.match(r"✓ \d+ of the account's 1000 concurrent executions are unreserved", line) for line in lines)
        assert output.rstrip().endswith("the stack works")


def test_send_test_posts_one_message_to_slack(state_file, aws):
    code, lines, output = doctor("--send-test")

    assert code == 0, output
    assert "✓ a test message was posted to Slack" in lines
    assert len(aws.slack_posts("mlrelay doctor: a test message from stage dev")) == 1


def test_a_disabled_rule_a_missing_parameter_and_a_changed_pipeline_are_each_named_with_what_to_do(state_file, stack):
    stack.settle()
    events, ssm, sagemaker = (stack.client(service) for service in ("events", "ssm", "sagemaker"))
    parameter = ssm.get_parameter(Name="/mlrelay/dev/slack-webhook-url", WithDecryption=True)["Parameter"]["Value"]
    pipeline = sagemaker.describe_pipeline(PipelineName=QUALITY_PIPELINE)
    changed = json.loads(pipeline["PipelineDefinition"])
    changed["Steps"][0]["Name"] = "RenamedByHand"
    events.disable_rule(Name=DAILY_RULE)
    ssm.delete_parameter(Name="/mlrelay/dev/slack-webhook-url")
    sagemaker.update_pipeline(PipelineName=QUALITY_PIPELINE, PipelineDefinition=json.dumps(changed))
    try:
        code, lines, output = doctor()
        deployed_code, deployed_lines, _ = doctor(stage="dev")
    finally:
        events.enable_rule(Name=DAILY_RULE)
        ssm.put_parameter(Name="/mlrelay/dev/slack-webhook-url", Value=parameter, Type="SecureString")
        sagemaker.update_pipeline(PipelineName=QUALITY_PIPELINE, PipelineDefinition=pipeline["PipelineDefinition"])

    failed = [line for line in lines if line.startswith("✗")]
    assert code == 1 and len(failed) == 3, output
    assert f"✗ rule {DAILY_RULE} is DISABLED → aws events enable-rule --name {DAILY_RULE}" in failed
    assert ("✗ Slack webhook parameter /mlrelay/dev/slack-webhook-url is not set: alerts reach SNS only → aws ssm put-parameter "
            "--type SecureString --name /mlrelay/dev/slack-webhook-url --value https://hooks.slack.com/services/...") in failed
    assert (f"✗ pipeline {QUALITY_PIPELINE} differs from pipelines/quality.pipeline.json at $.Steps[0].Name → restart the "
            "embedded stack (`mlrelay local up`)") in failed
    assert "3 check(s) failed" in output
    assert deployed_code == 1
    assert (f"✗ pipeline {QUALITY_PIPELINE} differs from pipelines/quality.pipeline.json at $.Steps[0].Name → redeploy: make "
            "deploy STAGE=dev") in deployed_lines
    assert doctor()[0] == 0  # restored


def test_a_function_changed_by_hand_is_found(state_file, stack):
    functions = stack.client("lambda")
    name = "mlrelay-dev-resume_run"
    original = functions.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    functions.update_function_code(FunctionName=name, ZipFile=b"PK\x05\x06" + b"\x00" * 18)
    try:
        code, lines, output = doctor()
    finally:
        from mlrelay.local.applier import PLACEHOLDER_CODE

        functions.update_function_code(FunctionName=name, ZipFile=PLACEHOLDER_CODE)

    assert code == 1
    assert (f"✗ 1 of 9 functions run other code than the stack deployed ({name}) → someone changed them by hand: restart "
            "the embedded stack (`mlrelay local up`)") in lines
    assert functions.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == original


def test_the_canary_trains_predicts_into_a_scratch_table_and_leaves_nothing_behind(state_file, stack):
    stack.settle()
    code, lines, output = doctor("--canary")

    assert code == 0, output
    assert re.search(r"canary: training run train-mlrelay-canary-dev-\S+ SUCCEEDED in [\d.]+ s", output)
    assert re.search(r"canary: inference run infer-mlrelay-canary-dev-on-demand-\S+ SUCCEEDED in [\d.]+ s", output)
    assert re.search(r"\n  WaitForTrainingPipeline +[\d.]+ s  succeeded", output)
    assert "✓ 10 of 10 predictions in mlrelay.canary_dev" in lines
    assert re.search(r"canary: the two runs cost about \$\d+\.\d{4} on AWS", output)
    assert "canary: cleaned up 8 of 8 parts" in output
    assert_nothing_left(stack)


def test_a_canary_whose_drop_is_refused_says_why_and_still_cleans_up(state_file, stack, monkeypatch):
    from mlrelay.doctor.canary import Canary

    broken = Canary.config
    monkeypatch.setattr(Canary, "config", lambda self: {**broken(self), "task": "clustering"})

    code, lines, output = doctor("--canary")

    assert code == 1
    assert any(line.startswith("✗ canary: the trigger refused s3://mlrelay-dev-123456789012-us-east-1/configs/train/"
                               "mlrelay-canary-dev.json: task:") for line in output.splitlines()), output
    assert "canary: cleaned up 7 of 7 parts" in output
    assert_nothing_left(stack)


def assert_nothing_left(stack):
    """No object, model record, ledger item, registry group or scratch table of the canary."""
    s3, bucket = stack.client("s3"), stack.info.outputs["ConfigBucketName"]
    for prefix in ("data/canary/", "configs/train/mlrelay-canary", "configs/infer/mlrelay-canary", "runs/mlrelay-canary-dev/"):
        listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        assert not listed.get("Versions") and not listed.get("DeleteMarkers"), prefix
    models = stack.client("dynamodb").query(
        TableName=stack.info.outputs["ModelsTableName"], KeyConditionExpression="model_name = :m",
        ExpressionAttributeValues={":m": {"S": "mlrelay-canary-dev"}})
    assert models["Items"] == []
    groups = stack.client("sagemaker").list_model_package_groups(NameContains="canary")["ModelPackageGroupSummaryList"]
    assert groups == []
    ledger = stack.client("dynamodb").scan(TableName="mlrelay-dev-runs", FilterExpression="contains(run_id, :m)",
                                           ExpressionAttributeValues={":m": {"S": "mlrelay-canary-dev"}})
    assert ledger["Items"] == []
    data = stack.client("redshift-data")
    statement = run_statement(data, connection_from(stack.info.outputs),
                              "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'canary_dev'")
    assert result_table(data, statement["Id"])[1] == [[0]]
