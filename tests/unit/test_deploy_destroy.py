"""`mlrelay destroy`: what it keeps (and says how to delete), asking first, following the deletion, its failure."""

import json

import pytest

from mlrelay.destroy import destroy
from mlrelay.stack_events import Pace, StackError
from tests.unit.stubbed_aws import (
    ACCOUNT,
    NAME,
    STACK_ID,
    STAGE,
    WHEN,
    StubbedSession,
    event,
    expect_caller,
    expect_events,
    expect_followed,
    expect_no_stack,
    expect_stack,
    own,
)

SLACK = f"/mlrelay/{STAGE}/slack-webhook-url"
DEPLOY_BUCKET = f"mlrelay-{STAGE}-deploy-{ACCOUNT}-us-east-1"
TEMPLATE = {"Resources": {
    "ConfigBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
    "RunsTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
    "ConditionalTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},  # not created: not in the stack
    "Alerts": {"Type": "AWS::Lambda::Function"},
    "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
}}
BUCKET = f"mlrelay-{STAGE}-{ACCOUNT}-us-east-1"
RESOURCES = [("ConfigBucket", "AWS::S3::Bucket", BUCKET), ("Alerts", "AWS::Lambda::Function", "mlrelay-test-alerts"),
             ("RunsTable", "AWS::DynamoDB::Table", "mlrelay-test-runs"), ("Queue", "AWS::SQS::Queue", "https://sqs/q")]


def expect_what_it_keeps(aws, status="UPDATE_COMPLETE"):
    expect_stack(aws, status, parameters={"Stage": STAGE, "SlackWebhookParameterName": SLACK})
    cfn = aws.stub("cloudformation")
    cfn.add_response("get_template", {"TemplateBody": json.dumps(TEMPLATE)}, {"StackName": STACK_ID, "TemplateStage": "Processed"})
    summaries = [{"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical, "LastUpdatedTimestamp": WHEN,
                  "ResourceStatus": "CREATE_COMPLETE"} for logical, kind, physical in RESOURCES]
    cfn.add_response("list_stack_resources", {"StackResourceSummaries": summaries[:2], "NextToken": "2"}, {"StackName": STACK_ID})
    cfn.add_response("list_stack_resources", {"StackResourceSummaries": summaries[2:]}, {"StackName": STACK_ID, "NextToken": "2"})
    expect_caller(aws)
    aws.stub("s3").add_response("head_bucket", {}, {"Bucket": DEPLOY_BUCKET})
    aws.stub("ssm").add_response("get_parameter", {"Parameter": {"Name": SLACK}}, {"Name": SLACK, "WithDecryption": False})


MODEL_ROLE = f"mlrelay-{STAGE}-packaging-type"
MODEL_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/mlrelay-{STAGE}-model-jobs"
COPY = f"mlrelay-{STAGE}-training-0123456789abcdef"


ENDPOINT = f"mlrelay-{STAGE}-packaging-type"
ENDPOINT_CONFIG = f"{ENDPOINT}-v1-0123abcd"


def expect_run_made_deleted(aws):
    """A model's endpoint (with its config, model and alarm), pipeline copy and role, made by its runs: deleted before
    the stack, whose policy the role attaches."""
    sagemaker, when = aws.stub("sagemaker"), WHEN
    for operation, key, name, value in (("list_endpoints", "Endpoints", "EndpointName", ENDPOINT),
                                        ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", ENDPOINT_CONFIG),
                                        ("list_models", "Models", "ModelName", ENDPOINT_CONFIG)):
        item = {name: value, "CreationTime": when, f"{name[:-4]}Arn": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:x/{value}"}
        if operation == "list_endpoints":
            item.update(EndpointStatus="InService", LastModifiedTime=when)
        sagemaker.add_response(operation, {key: [item]}, {"NameContains": f"mlrelay-{STAGE}-"})
    sagemaker.add_response("delete_endpoint", {}, {"EndpointName": ENDPOINT})
    sagemaker.add_response("delete_endpoint_config", {}, {"EndpointConfigName": ENDPOINT_CONFIG})
    sagemaker.add_response("delete_model", {}, {"ModelName": ENDPOINT_CONFIG})
    alarms = [{"AlarmName": name} for name in (f"{ENDPOINT}-model-errors", f"mlrelay-{STAGE}-segments-executions-failed")]
    aws.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": alarms}, {
        "AlarmNamePrefix": f"mlrelay-{STAGE}-", "AlarmTypes": ["MetricAlarm"]})
    aws.stub("cloudwatch").add_response("delete_alarms", {}, {"AlarmNames": [f"{ENDPOINT}-model-errors"]})
    summaries = [{"PipelineName": name} for name in (f"mlrelay-{STAGE}-training", COPY, f"mlrelay-{STAGE}-quality")]
    aws.stub("sagemaker").add_response("list_pipelines", {"PipelineSummaries": summaries}, {"PipelineNamePrefix": f"mlrelay-{STAGE}-"})
    aws.stub("sagemaker").add_response("delete_pipeline", {}, {"PipelineName": COPY})
    iam = aws.stub("iam")
    role = {"Path": f"/mlrelay-{STAGE}-models/", "RoleName": MODEL_ROLE, "RoleId": "AROAEXAMPLEEXAMPLE1",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/mlrelay-{STAGE}-models/{MODEL_ROLE}", "CreateDate": WHEN}
    iam.add_response("list_roles", {"Roles": [role]}, {"PathPrefix": f"/mlrelay-{STAGE}-models/"})
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyArn": MODEL_POLICY}]}, {"RoleName": MODEL_ROLE})
    iam.add_response("detach_role_policy", {}, {"RoleName": MODEL_ROLE, "PolicyArn": MODEL_POLICY})
    iam.add_response("list_role_policies", {"PolicyNames": []}, {"RoleName": MODEL_ROLE})
    iam.add_response("delete_role", {}, {"RoleName": MODEL_ROLE})


def expect_deletion(aws, final, events):
    expect_run_made_deleted(aws)
    expect_events(aws, [own(final.replace("DELETE", "UPDATE"))])
    aws.stub("cloudformation").add_response("delete_stack", {}, {"StackName": STACK_ID})
    expect_followed(aws, [("DELETE_IN_PROGRESS", []), (final, events)])


def run(aws, answer):
    said, asked = [], []
    confirm = None if answer is None else lambda question: asked.append(question) or answer
    kept = destroy(aws, STAGE, said.append, confirm, Pace(delay=0, polls=5, sleep=lambda seconds: None))
    aws.verify()
    return kept, said, asked


def test_destroy_asks_deletes_follows_and_says_what_it_kept_with_how_to_delete_each():
    aws = StubbedSession()
    expect_what_it_keeps(aws)
    expect_deletion(aws, "DELETE_COMPLETE", [
        own("DELETE_COMPLETE"),
        event("RunsTable", "DELETE_SKIPPED", kind="AWS::DynamoDB::Table"),
        event("Alerts", "DELETE_COMPLETE"),
        event("Alerts", "DELETE_IN_PROGRESS"),
        own("DELETE_IN_PROGRESS", "User Initiated"),
    ])

    kept, said, asked = run(aws, answer=True)

    assert [k.physical_id for k in kept] == [BUCKET, "mlrelay-test-runs", DEPLOY_BUCKET, SLACK]
    assert asked == [f"delete stack {NAME}?"]
    assert said[0] == f"deleting stack {NAME} (UPDATE_COMPLETE) deletes every resource it holds except these, which it keeps:"
    assert said[1].startswith(f"  AWS::S3::Bucket ConfigBucket: {BUCKET} (to delete it too: empty it of every object version "
                              f"(S3 console: Empty), then `aws s3api delete-bucket --bucket {BUCKET}`")
    assert said[2] == ("  AWS::DynamoDB::Table RunsTable: mlrelay-test-runs "
                       "(to delete it too: `aws dynamodb delete-table --table-name mlrelay-test-runs`)")
    assert said[3] == f"  deployment bucket: {DEPLOY_BUCKET} (to delete it too: `aws s3 rb s3://{DEPLOY_BUCKET} --force` " \
                      "(templates and zips of past deploys))"
    assert said[4] == f"  SSM parameter (Slack webhook URL): {SLACK} (to delete it too: `aws ssm delete-parameter --name {SLACK}`)"
    assert f"--name-contains mlrelay-{STAGE}-" in said[5]
    assert said[6:] == [
        f"deleted what runs made: 1 endpoints (with their configs, models and alarms), 1 pipeline copies and 1 model roles "
        f"(each model's own, under /mlrelay-{STAGE}-models/)",
        f"deleting stack {NAME}…",
        f"  {'DELETE_IN_PROGRESS':<20} {NAME} (AWS::CloudFormation::Stack)",
        f"  {'DELETE_COMPLETE':<20} Alerts (AWS::Serverless::Function)",
        f"  {'DELETE_SKIPPED':<20} RunsTable (AWS::DynamoDB::Table)",
        f"  {'DELETE_COMPLETE':<20} {NAME} (AWS::CloudFormation::Stack)",
        f"stack {NAME} deleted; the 4 resources above remain",
    ]


def test_destroy_without_a_terminal_or_yes_lists_what_it_would_keep_and_deletes_nothing():
    aws = StubbedSession()
    expect_what_it_keeps(aws)

    with pytest.raises(StackError, match=f"run `mlrelay destroy --stage {STAGE} --yes`"):
        run(aws, answer=None)
    aws.verify()


def test_destroy_declined_deletes_nothing():
    aws = StubbedSession()
    expect_what_it_keeps(aws)

    with pytest.raises(StackError, match=f"stack {NAME} left as it is"):
        run(aws, answer=False)
    aws.verify()


def test_a_failed_deletion_reports_its_earliest_failure_and_how_to_go_on():
    aws = StubbedSession()
    expect_what_it_keeps(aws, status="ROLLBACK_COMPLETE")
    role_failure = "Cannot delete entity, must detach all policies first."
    expect_deletion(aws, "DELETE_FAILED", [own("DELETE_FAILED")])
    expect_events(aws, [
        own("DELETE_FAILED", "The following resource(s) failed to delete: [AlertsRole]."),
        event("AlertsRole", "DELETE_FAILED", role_failure, kind="AWS::IAM::Role"),
        own("DELETE_IN_PROGRESS", "User Initiated"),
    ])

    with pytest.raises(StackError) as failed:
        run(aws, answer=True)

    assert str(failed.value) == (
        f"stack {NAME} is DELETE_FAILED: AlertsRole (AWS::IAM::Role) DELETE_FAILED: {role_failure}; fix what it names and run "
        f"`mlrelay destroy --stage {STAGE}` again (or keep that resource: "
        f"`aws cloudformation delete-stack --stack-name {NAME} --retain-resources LOGICAL_ID`)"
    )
    aws.verify()


def test_no_stack_is_nothing_to_destroy():
    aws = StubbedSession()
    expect_no_stack(aws)

    with pytest.raises(StackError, match=f"no stack {NAME} in us-east-1: nothing to destroy"):
        run(aws, answer=True)


def test_a_stack_in_an_operation_is_not_destroyed():
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_IN_PROGRESS")

    with pytest.raises(StackError, match="another operation is running on it; wait for it to finish"):
        run(aws, answer=True)
    aws.verify()
