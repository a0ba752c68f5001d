"""What the embedded stack created is what the packaged template declares: any drift fails the build.

The template is the one `make package STAGE=dev` writes; its references are
resolved against what the embedded stack created, then compared with what the
emulator's APIs report: table keys, queues and their dead-letter settings,
rules with their patterns, schedules and targets, event source mappings,
function names, and state machine definitions after substitution.
"""

from __future__ import annotations

import json

import pytest

from mlrelay.local.template import evaluate_condition, resolve
from mlrelay.packaging import package

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def declared(stack, tmp_path_factory):
    template = json.loads(package("dev", tmp_path_factory.mktemp("package")).template.read_text())
    applied = stack.applied

    def of_type(kind, *only):
        return {
            name: resolve(
                {k: v for k, v in r["Properties"].items() if not only or k in only},
                applied.ref, lambda lid, att: applied.resources[lid].attributes[att],
                lambda condition: evaluate_condition(template.get("Conditions", {}), condition, applied.ref),
            )
            for name, r in template["Resources"].items()
            if r["Type"] == kind
        }

    return of_type


def test_tables_have_the_declared_names_and_keys(aws, declared):
    tables = declared("AWS::DynamoDB::Table")

    assert tables
    for properties in tables.values():
        actual = aws.dynamodb.describe_table(TableName=properties["TableName"])["Table"]
        assert actual["KeySchema"] == properties["KeySchema"]
        assert {a["AttributeName"]: a["AttributeType"] for a in actual["AttributeDefinitions"]} == {
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        }
        assert properties["SSESpecification"] == {"SSEEnabled": True}  # no customer key in dev: the AWS-managed one
        assert actual["SSEDescription"]["Status"] == "ENABLED"


def test_queues_have_the_declared_retention_visibility_and_dead_letter_queues(aws, declared):
    queues = declared("AWS::SQS::Queue")

    assert len(queues) == 5  # two queues, their dead-letter queues, and the rule targets' dead-letter queue
    for properties in queues.values():
        url = aws.sqs.get_queue_url(QueueName=properties["QueueName"])["QueueUrl"]
        actual = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for name in ("MessageRetentionPeriod", "VisibilityTimeout"):
            if name in properties:
                assert int(actual[name]) == int(properties[name]), (properties["QueueName"], name)
        if "RedrivePolicy" in properties:
            assert json.loads(actual["RedrivePolicy"]) == properties["RedrivePolicy"]


def test_rules_have_the_declared_patterns_schedules_and_targets(aws, declared):
    events = aws.stack.client("events")
    rules = declared("AWS::Events::Rule")

    assert any("ScheduleExpression" in r for r in rules.values()) and any("EventPattern" in r for r in rules.values())
    for properties in rules.values():
        actual = events.describe_rule(Name=properties["Name"])
        targets = events.list_targets_by_rule(Rule=properties["Name"])["Targets"]
        if "EventPattern" in properties:
            assert json.loads(actual["EventPattern"]) == properties["EventPattern"]
        assert actual.get("ScheduleExpression") == properties.get("ScheduleExpression")
        assert sorted(t["Arn"] for t in targets) == sorted(t["Arn"] for t in properties["Targets"])


def test_functions_and_their_queue_mappings_are_the_declared_ones(aws, declared):
    functions = {p["FunctionName"] for p in declared("AWS::Serverless::Function", "FunctionName").values()}
    mappings = declared("AWS::Lambda::EventSourceMapping").values()

    assert len(functions) == 9 and len(mappings) == 2
    assert {f["FunctionName"] for f in aws.lambda_.list_functions()["Functions"]} == functions
    local = {(m.queue_arn, m.function_name, m.report_batch_item_failures) for m in aws.stack.applied.event_source_mappings}
    assert local == {
        (m["EventSourceArn"], m["FunctionName"], "ReportBatchItemFailures" in m.get("FunctionResponseTypes", []))
        for m in mappings
    }


def test_state_machines_run_the_declared_definitions(aws, declared):
    machines = declared("AWS::Serverless::StateMachine")

    assert len(machines) == 4  # training, inference, segments, deploy
    for properties in machines.values():
        text = json.dumps(properties["Definition"])
        for name, value in properties["DefinitionSubstitutions"].items():
            text = text.replace("${" + name + "}", str(value))
        arn = next(m["stateMachineArn"] for m in aws.sfn.list_state_machines()["stateMachines"] if m["name"] == properties["Name"])
        assert json.loads(aws.sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == json.loads(text)
