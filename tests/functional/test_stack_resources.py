"""The embedded stack holds what infra/resources.json declares (local equals deployed)."""

import json

import pytest

pytestmark = pytest.mark.functional


def test_the_config_bucket_is_versioned_and_private(aws):
    # (That it sends events to EventBridge is proven by the trigger tests: moto's
    # GetBucketNotificationConfiguration leaves EventBridgeConfiguration out.)
    assert aws.s3.get_bucket_versioning(Bucket=aws.bucket)["Status"] == "Enabled"
    block = aws.s3.get_public_access_block(Bucket=aws.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_the_failures_queue_has_a_longer_lived_dead_letter_queue(aws):
    attributes = aws.sqs.get_queue_attributes(QueueUrl=aws.failures_url, AttributeNames=["All"])["Attributes"]
    dlq_url = aws.stack.applied.ref("FailuresDeadLetterQueue")
    dlq = aws.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]

    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(dlq["MessageRetentionPeriod"]) > int(attributes["MessageRetentionPeriod"])


def test_the_trigger_rule_routes_train_configs_to_the_handler(aws):
    events = aws.stack.client("events")
    rule = events.describe_rule(Name="mlrelay-dev-train-config-dropped")
    targets = events.list_targets_by_rule(Rule="mlrelay-dev-train-config-dropped")["Targets"]

    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"]["object"]["key"] == [{"prefix": "configs/train/"}]
    assert pattern["detail"]["bucket"]["name"] == [aws.bucket]
    assert [t["Arn"].rsplit(":", 1)[-1] for t in targets] == ["mlrelay-dev-on_config_dropped"]


def test_an_object_outside_the_prefix_triggers_nothing(aws):
    before = aws.stack.runtime.count("mlrelay-dev-on_config_dropped")

    aws.drop("data/catalogue.csv", b"item_id,weight_g\n1,200\n")

    assert aws.stack.runtime.count("mlrelay-dev-on_config_dropped") == before


def test_functions_get_the_environment_the_template_declares(stack):
    environment = stack.applied.function_environment["mlrelay-dev-on_config_dropped"]

    assert environment["TRAINING_STATE_MACHINE_ARN"] == stack.info.outputs["TrainingStateMachineArn"]
    assert environment["IDEMPOTENCY_TABLE"] == "mlrelay-dev-idempotency"
    assert environment["MLRELAY_STAGE"] == "dev"  # from .chalice/config.json
