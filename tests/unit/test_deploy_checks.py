"""What deploy refuses before changing anything, each check alone (mlrelay/deploy_checks.py), and the pure
decisions around a deploy: what a stack status allows, the earliest failure among events, the change set summary."""

import pytest

from mlrelay.change_sets import ChangeSet, summary
from mlrelay.deploy import stack_move
from mlrelay.deploy_checks import (
    concurrency_refusals,
    foreign_arn_refusals,
    image_refusals,
    reserved_concurrency,
    slack_parameter_refusals,
)
from mlrelay.stack_events import earliest_failure, kept_by_rollback
from tests.unit.stubbed_aws import ACCOUNT, NAME, STAGE, StubbedSession, event, own

COPY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/copy"


def function(name, reserved):
    return {"Type": "AWS::Serverless::Function",
            "Properties": {"FunctionName": {"Fn::Sub": f"mlrelay-${{Stage}}-{name}"}, "ReservedConcurrentExecutions": reserved}}


TEMPLATE = {"Resources": {"Alerts": function("alerts", 4), "TrainingStep": function("training_step", "20"),
                          "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}}


# ARN parameters

def test_arns_of_the_callers_account_and_partition_pass_and_other_values_are_not_arns():
    parameters = {"RedshiftCopyRoleArn": COPY_ROLE, "PredictionsTable": "predictions", "DataBucketArn": "arn:aws:s3:::data"}

    assert foreign_arn_refusals(parameters, ACCOUNT, "aws", STAGE) == []


def test_an_arn_of_another_account_names_the_parameter_and_both_accounts():
    (refusal,) = foreign_arn_refusals({"RedshiftCopyRoleArn": COPY_ROLE}, "999999999999", "aws", STAGE)

    assert refusal.startswith(f"RedshiftCopyRoleArn in infra/parameters/{STAGE}.json names {COPY_ROLE}")
    assert f"account {ACCOUNT} while the caller is account 999999999999" in refusal


def test_an_arn_of_another_partition_names_both_partitions():
    (refusal,) = foreign_arn_refusals({"RedshiftCopyRoleArn": COPY_ROLE}, ACCOUNT, "aws-cn", STAGE)

    assert "partition aws while the caller's region is in aws-cn" in refusal and "arn:aws-cn:..." in refusal


def test_each_arn_of_a_list_parameter_is_checked():
    repositories = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/a, arn:aws:ecr:us-east-1:999999999999:repository/b"

    (refusal,) = foreign_arn_refusals({"ImageRepositoryArns": repositories}, ACCOUNT, "aws", STAGE)

    assert "repository/b" in refusal and "repository/a" not in refusal


# Reserved concurrency

def account_settings(aws, limit, unreserved):
    aws.stub("lambda").add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": limit,
                                                                              "UnreservedConcurrentExecutions": unreserved}})


def test_reservations_are_read_as_ints_or_strings_under_the_functions_deployed_names():
    assert reserved_concurrency(TEMPLATE, STAGE) == {f"{NAME}-alerts": 4, f"{NAME}-training_step": 20}


def test_a_new_account_limit_of_10_cannot_give_a_first_create_its_reservations():
    aws = StubbedSession()
    account_settings(aws, limit=10, unreserved=10)

    (refusal,) = concurrency_refusals(aws.client("lambda"), TEMPLATE, STAGE, deployed=False)

    aws.verify()  # no function was read: a first create has none
    assert "would reserve 24 concurrent executions (24 more than now), 14 more than the account has unreserved" in refusal
    assert "limit of 10 in us-east-1" in refusal and "at least 100 unreserved" in refusal
    assert f"lower reserved_concurrency for stage {STAGE} in .chalice/config.json" in refusal and "--quota-code L-B99A9384" in refusal


def test_a_first_create_that_leaves_100_unreserved_passes():
    aws = StubbedSession()
    account_settings(aws, limit=1000, unreserved=124)

    assert concurrency_refusals(aws.client("lambda"), TEMPLATE, STAGE, deployed=False) == []


def test_an_update_counts_only_the_increase_over_what_the_stacks_functions_reserve_now():
    aws = StubbedSession()
    account_settings(aws, limit=1000, unreserved=100)  # the stack already holds 4 + 20 of the 900 reserved
    aws.stub("lambda").add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 4}, {"FunctionName": f"{NAME}-alerts"})
    aws.stub("lambda").add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 20},
                                    {"FunctionName": f"{NAME}-training_step"})

    assert concurrency_refusals(aws.client("lambda"), TEMPLATE, STAGE) == []
    aws.verify()


def test_an_update_that_raises_a_reservation_past_the_floor_is_refused_with_what_would_be_left():
    aws = StubbedSession()
    account_settings(aws, limit=1000, unreserved=105)
    aws.stub("lambda").add_response("get_function_concurrency", {}, {"FunctionName": f"{NAME}-alerts"})  # reserves nothing now
    aws.stub("lambda").add_client_error("get_function_concurrency", service_error_code="ResourceNotFoundException",
                                        http_status_code=404, expected_params={"FunctionName": f"{NAME}-training_step"})

    (refusal,) = concurrency_refusals(aws.client("lambda"), TEMPLATE, STAGE)

    assert "(24 more than now), leaving 81 unreserved of its limit of 1000" in refusal
    aws.verify()


def test_a_template_reserving_nothing_reads_nothing():
    assert concurrency_refusals(StubbedSession().client("lambda"), {"Resources": {}}, STAGE) == []


# Framework images

def test_every_framework_has_its_images_in_us_east_1_and_cn_north_1():
    assert image_refusals("us-east-1") == [] and image_refusals("cn-north-1") == []


def test_a_region_without_huggingface_training_is_refused_unless_the_team_names_only_what_it_uses():
    (refusal,) = image_refusals("eu-central-2")

    assert refusal.startswith("no huggingface 4.49.0 training image in eu-central-2: choose another region, or pass --frameworks")
    assert image_refusals("eu-central-2", ["sklearn", "xgboost"]) == []


def test_an_unknown_framework_is_refused_with_the_known_ones():
    (refusal,) = image_refusals("us-east-1", ["tensorflow"])

    assert "'tensorflow'" in refusal and "huggingface, pytorch, sklearn, xgboost" in refusal


def test_the_gpu_image_counts_where_a_framework_has_no_cpu_one():
    images = {"default_versions": {"hf": "1"}, "images": {
        "hf/1/training/gpu": {"registries": {"r1": "1"}}, "hf/1/inference/cpu": {"registries": {"r1": "1", "r2": "1"}},
        "hf/1/inference/gpu": {"registries": {"r2": "1"}},
    }}

    assert image_refusals("r1", images=images) == []
    assert [r.split(":")[0] for r in image_refusals("r2", images=images)] == ["no hf 1 training image in r2"]


# Slack parameter

def test_a_missing_slack_parameter_says_the_command_that_creates_it():
    aws = StubbedSession()
    aws.stub("ssm").add_client_error("get_parameter", service_error_code="ParameterNotFound", http_status_code=400,
                                     expected_params={"Name": "/mlrelay/test/slack", "WithDecryption": False})

    (refusal,) = slack_parameter_refusals(aws.client("ssm"), "/mlrelay/test/slack")

    assert refusal == ("the Slack webhook parameter /mlrelay/test/slack does not exist in us-east-1: create it with "
                       "`aws ssm put-parameter --type SecureString --name /mlrelay/test/slack --value https://hooks.slack.com/...`")


def test_an_existing_slack_parameter_passes_without_decrypting_it():
    aws = StubbedSession()
    aws.stub("ssm").add_response("get_parameter", {"Parameter": {"Name": "/p", "Type": "SecureString", "Value": "AQIC..."}},
                                 {"Name": "/p", "WithDecryption": False})

    assert slack_parameter_refusals(aws.client("ssm"), "/p") == []


# What a stack's status allows

@pytest.mark.parametrize("status", [None, "REVIEW_IN_PROGRESS"])
def test_no_stack_or_one_in_review_is_created(status):
    assert stack_move(status, STAGE).change_set_type == "CREATE" and not stack_move(status, STAGE).recreate


@pytest.mark.parametrize("status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                                    "IMPORT_ROLLBACK_COMPLETE"])
def test_a_settled_stack_is_updated(status):
    assert stack_move(status, STAGE).change_set_type == "UPDATE"


def test_a_failed_first_create_is_deleted_and_created_again():
    assert stack_move("ROLLBACK_COMPLETE", STAGE).recreate and stack_move("ROLLBACK_COMPLETE", STAGE).change_set_type == "CREATE"


@pytest.mark.parametrize("status", ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                                    "UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"])
def test_a_stack_in_an_operation_is_refused(status):
    move = stack_move(status, STAGE)

    assert move.change_set_type == "" and f"stack {NAME} is {status}: another operation is running on it; wait" in move.refusal


@pytest.mark.parametrize(("status", "what_to_do"), [
    ("UPDATE_ROLLBACK_FAILED", f"`aws cloudformation continue-update-rollback --stack-name {NAME}`"),
    ("UPDATE_FAILED", f"`aws cloudformation rollback-stack --stack-name {NAME}`"),
    ("DELETE_FAILED", f"`mlrelay destroy --stage {STAGE}` again"),
    ("ROLLBACK_FAILED", f"`aws cloudformation delete-stack --stack-name {NAME}`"),
    ("CREATE_FAILED", f"`aws cloudformation delete-stack --stack-name {NAME}`"),
    ("IMPORT_ROLLBACK_FAILED", "resolve it in the CloudFormation console"),
])
def test_a_stuck_stack_is_refused_with_what_to_do(status, what_to_do):
    move = stack_move(status, STAGE, reason="Role x is invalid")

    assert move.refusal.startswith(f"stack {NAME} is {status} (Role x is invalid), which takes no change set: ")
    assert what_to_do in move.refusal and move.refusal.endswith("then deploy again")


# The earliest failure

def test_the_earliest_failure_is_the_cause_not_the_cancellations_after_it():
    events = [  # newest first
        own("ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Alerts, Queue]."),
        event("Queue", "CREATE_FAILED", "Resource creation cancelled", kind="AWS::SQS::Queue"),
        event("Topic", "CREATE_FAILED", "Topic policy invalid", kind="AWS::SNS::Topic"),  # a failure, but after the first
        event("Alerts", "CREATE_FAILED", "Specified ReservedConcurrentExecutions decreases the account's unreserved below 10"),
        event("Table", "CREATE_COMPLETE", kind="AWS::DynamoDB::Table"),
    ]

    assert earliest_failure(events) == ("Alerts (AWS::Serverless::Function) CREATE_FAILED: "
                                        "Specified ReservedConcurrentExecutions decreases the account's unreserved below 10")
    assert earliest_failure([events[0], events[1]]) is None  # only a cancellation: no cause among the resources


def test_a_rollback_names_what_it_kept():
    events = [event("RunsTable", "DELETE_SKIPPED", kind="AWS::DynamoDB::Table", physical_id="mlrelay-test-runs"),
              event("Alerts", "DELETE_COMPLETE")]

    assert [e["PhysicalResourceId"] for e in kept_by_rollback(events)] == ["mlrelay-test-runs"]


# The change set summary

def test_the_summary_has_a_line_per_change_with_replacements_and_the_counts():
    changes = (
        {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue"}},
        {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": "Alerts",
                                                "ResourceType": "AWS::Lambda::Function", "Replacement": "False"}},
        {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": "Rule",
                                                "ResourceType": "AWS::Events::Rule", "Replacement": "Conditional"}},
        {"Type": "Resource", "ResourceChange": {"Action": "Remove", "LogicalResourceId": "Old", "ResourceType": "AWS::SNS::Topic"}},
    )

    assert summary(ChangeSet("id", "stack-id", NAME, "UPDATE", changes)) == [
        f"change set for stack {NAME} (UPDATE):",
        "  Add    Queue (AWS::SQS::Queue)",
        "  Modify Alerts (AWS::Lambda::Function)",
        "  Modify Rule (AWS::Events::Rule) replacement: Conditional",
        "  Remove Old (AWS::SNS::Topic)",
        "4 changes: 1 to add, 2 to modify (1 replaced or maybe replaced), 1 to remove",
    ]
