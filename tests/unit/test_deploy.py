"""`mlrelay deploy` against every CloudFormation state, on real boto3 clients answered by botocore's Stubber.

Each test queues the calls it expects; an unexpected call fails (so a refusal that uploads or creates a
change set would fail), and `aws.verify()` fails on an expected call that never came.
"""

import io
import json
import sys

import pytest
from botocore.stub import ANY

from mlrelay.change_sets import ChangeSetError
from mlrelay.cli.deploy_cmd import asker, refuse
from mlrelay.deploy import DeployError, DeployOptions, DeployRefused, deploy
from mlrelay.packaging import Package
from mlrelay.pipeline_builder.code import code_bundle
from mlrelay.stack_events import Pace
from tests.unit.stubbed_aws import (
    ACCOUNT,
    CHANGE_SET_ID,
    NAME,
    STACK_ID,
    STAGE,
    StartsWith,
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
S3_DOMAINS = {"us-east-1": "s3.amazonaws.com", "eu-central-2": "s3.eu-central-2.amazonaws.com",
              "cn-north-1": "s3.cn-north-1.amazonaws.com.cn"}
OUTPUTS = {"ArtifactBucketName": "mlrelay-test-artifacts"}
ANY_QUERY = {"TableName": ANY, "KeyConditionExpression": ANY, "ExpressionAttributeValues": ANY, "ConsistentRead": True}
NOW_RESERVED = {"alerts": 4, "training_step": 20}
CHANGES = [
    {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Alerts", "ResourceType": "AWS::Lambda::Function"}},
    {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "RunsTable", "ResourceType": "AWS::DynamoDB::Table"}},
]
TEMPLATE = {
    "Parameters": {"SlackWebhookParameterName": {"Type": "String", "Default": SLACK}},
    "Resources": {
        name: {"Type": "AWS::Serverless::Function", "Properties": {
            "FunctionName": {"Fn::Sub": f"mlrelay-${{Stage}}-{function}"}, "CodeUri": "./deployment.zip",
            "ReservedConcurrentExecutions": reserved}}
        for name, function, reserved in (("Alerts", "alerts", 4), ("TrainingStep", "training_step", "20"))
    },
}


@pytest.fixture
def package(tmp_path):
    (tmp_path / "infra" / "parameters").mkdir(parents=True)
    (tmp_path / "infra" / "parameters" / f"{STAGE}.json").write_text(json.dumps({
        "RedshiftCopyRoleArn": f"arn:aws:iam::{ACCOUNT}:role/mlrelay-test-redshift-copy", "SlackWebhookParameterName": SLACK,
    }))
    (tmp_path / "sam.json").write_text(json.dumps(TEMPLATE))
    (tmp_path / "deployment.zip").write_bytes(b"PK zip")
    return Package(tmp_path, tmp_path / "sam.json", tmp_path / "deployment.zip", STAGE)


class Run:
    """One deploy: what it said, and what it returned or raised. Nobody to ask unless confirm= is given."""

    def __init__(self, package, aws, **options):
        self.said = []
        pace = Pace(delay=0, polls=10, sleep=lambda seconds: None)
        self.options = DeployOptions(pace=pace, project_root=package.directory, **options)
        self.package, self.aws = package, aws

    def __call__(self):
        result = deploy(self.package, self.aws, self.said.append, self.options)
        self.aws.verify()
        return result

    def refused(self):
        with pytest.raises(DeployRefused) as refused:
            deploy(self.package, self.aws, self.said.append, self.options)
        self.aws.verify()
        return refused.value.refusals


# What each path queues

def expect_checks(aws, deployed, account=ACCOUNT, unreserved=1000, slack=True):
    expect_caller(aws, account)
    lam = aws.stub("lambda")
    lam.add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": unreserved}})
    for function, reserved in NOW_RESERVED.items() if deployed else ():
        lam.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": reserved}, {"FunctionName": f"{NAME}-{function}"})
    if slack:
        aws.stub("ssm").add_response("get_parameter", {"Parameter": {"Name": SLACK, "Type": "SecureString"}},
                                     {"Name": SLACK, "WithDecryption": False})
    else:
        aws.stub("ssm").add_client_error("get_parameter", service_error_code="ParameterNotFound", http_status_code=400)


def expect_upload(aws):
    """The zip and the template in the deployment bucket; the template's URL, in the partition's S3 domain."""
    bucket = f"mlrelay-{STAGE}-deploy-{ACCOUNT}-{aws.region_name}"
    s3 = aws.stub("s3")
    s3.add_response("head_bucket", {}, {"Bucket": bucket})
    s3.add_response("put_object", {}, {"Bucket": bucket, "Key": StartsWith("deploy/"), "Body": b"PK zip"})
    s3.add_response("put_object", {}, {"Bucket": bucket, "Key": StartsWith(f"deploy/{STAGE}-"), "Body": ANY})
    return StartsWith(f"https://{bucket}.{S3_DOMAINS[aws.region_name]}/deploy/{STAGE}-")


def expect_change_set(aws, kind, template_url, status="CREATE_COMPLETE", reason="", changes=CHANGES):
    cfn = aws.stub("cloudformation")
    cfn.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID}, {
        "StackName": NAME, "ChangeSetName": StartsWith(f"{NAME}-"), "TemplateURL": template_url, "Parameters": ANY,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"], "ChangeSetType": kind})
    cfn.add_response("describe_change_set", {"Status": "CREATE_IN_PROGRESS"}, {"ChangeSetName": CHANGE_SET_ID})
    settled = {"Status": status, "Changes": changes, **({"StatusReason": reason} if reason else {})}
    cfn.add_response("describe_change_set", settled, {"ChangeSetName": CHANGE_SET_ID})


def expect_execution(aws, final, polls):
    expect_events(aws, [own("REVIEW_IN_PROGRESS")])  # where the operation's events start
    aws.stub("cloudformation").add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    expect_followed(aws, [*polls, (final, [own(final)])], outputs=OUTPUTS)


def expect_step_scripts(aws):
    for _ in code_bundle().objects:
        aws.stub("s3").add_response("put_object", {}, {"Bucket": OUTPUTS["ArtifactBucketName"], "Key": ANY, "Body": ANY})


# A first create, an update, no changes

def test_a_first_create_checks_uploads_prints_the_change_set_executes_and_uploads_the_step_scripts(package):
    aws = StubbedSession()
    expect_no_stack(aws)
    expect_checks(aws, deployed=False)
    expect_change_set(aws, "CREATE", expect_upload(aws))
    expect_execution(aws, "CREATE_COMPLETE", [("CREATE_IN_PROGRESS", [event("RunsTable", "CREATE_COMPLETE", kind="AWS::DynamoDB::Table"),
                                                                     event("RunsTable", "CREATE_IN_PROGRESS", kind="AWS::DynamoDB::Table"),
                                                                     own("CREATE_IN_PROGRESS", "User Initiated")])])
    expect_step_scripts(aws)
    run = Run(package, aws)

    deployed = run()

    assert deployed.changed and deployed.outputs == OUTPUTS
    assert run.said[1:6] == [
        f"change set for stack {NAME} (CREATE):",
        "  Add    Alerts (AWS::Lambda::Function)",
        "  Add    RunsTable (AWS::DynamoDB::Table)",
        "2 changes: 2 to add, 0 to modify (0 replaced or maybe replaced), 0 to remove",
        f"creating stack {NAME}…",
    ]
    assert run.said[6:9] == [  # progress: each resource as it settles, oldest first
        f"  {'CREATE_IN_PROGRESS':<20} {NAME} (AWS::CloudFormation::Stack)",
        f"  {'CREATE_COMPLETE':<20} RunsTable (AWS::DynamoDB::Table)",
        f"  {'CREATE_COMPLETE':<20} {NAME} (AWS::CloudFormation::Stack)",
    ]


def test_an_update_counts_the_functions_reservations_and_updates(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_ROLLBACK_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True, unreserved=100)  # passes only because the stack already holds its 24
    expect_change_set(aws, "UPDATE", expect_upload(aws))
    expect_execution(aws, "UPDATE_COMPLETE", [("UPDATE_IN_PROGRESS", [])])
    expect_step_scripts(aws)
    run = Run(package, aws)

    assert run().changed
    assert f"updating stack {NAME}…" in run.said


@pytest.mark.parametrize("reason", [
    "The submitted information didn't contain changes. Submit different information to create a change set.",
    "No updates are to be performed.",
])
def test_no_changes_deletes_the_change_set_and_still_uploads_the_step_scripts(package, reason):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    expect_change_set(aws, "UPDATE", expect_upload(aws), status="FAILED", reason=reason, changes=[])
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    expect_step_scripts(aws)
    run = Run(package, aws)

    deployed = run()

    assert not deployed.changed and deployed.outputs == OUTPUTS
    assert "no changes: the stack is up to date" in run.said


def test_a_change_set_cloudformation_refuses_is_deleted_and_its_reason_reported(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    expect_change_set(aws, "UPDATE", expect_upload(aws), status="FAILED", reason="Template format error: Unresolved resource", changes=[])
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})

    with pytest.raises(ChangeSetError, match=f"refused the change set for {NAME}: Template format error: Unresolved resource"):
        deploy(package, aws, print, Run(package, aws).options)
    aws.verify()


def test_a_change_set_left_by_an_interrupted_deploy_of_the_same_template_is_replaced(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    url = expect_upload(aws)
    cfn = aws.stub("cloudformation")
    cfn.add_client_error("create_change_set", service_error_code="AlreadyExistsException", http_status_code=400)
    cfn.add_response("delete_change_set", {}, {"ChangeSetName": StartsWith(f"{NAME}-"), "StackName": NAME})
    expect_change_set(aws, "UPDATE", url, status="FAILED", reason="No updates are to be performed.", changes=[])
    cfn.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    expect_step_scripts(aws)

    assert not Run(package, aws)().changed


def test_the_template_url_names_the_partitions_s3_domain(package):
    aws = StubbedSession("cn-north-1")
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    url = expect_upload(aws)
    assert url.startswith(f"https://mlrelay-{STAGE}-deploy-{ACCOUNT}-cn-north-1.s3.cn-north-1.amazonaws.com.cn/")
    expect_change_set(aws, "UPDATE", url, status="FAILED", reason="No updates are to be performed.", changes=[])
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    expect_step_scripts(aws)
    package.directory.joinpath("infra/parameters", f"{STAGE}.json").write_text(json.dumps({"SlackWebhookParameterName": SLACK}))

    assert not Run(package, aws)().changed


# A failed deploy reports its cause

def test_a_failed_create_reports_the_earliest_resource_failure_across_pages_not_the_cancellations(package):
    aws = StubbedSession()
    expect_no_stack(aws)
    expect_checks(aws, deployed=False)
    expect_change_set(aws, "CREATE", expect_upload(aws))
    expect_execution(aws, "ROLLBACK_COMPLETE", [("ROLLBACK_IN_PROGRESS", [])])
    cause = "Resource handler returned message: Specified ReservedConcurrentExecutions decreases UnreservedConcurrentExecution below 10"
    expect_events(aws, next_token="page-2", events=[  # newest first
        own("ROLLBACK_COMPLETE"),
        event("Queue", "DELETE_COMPLETE", kind="AWS::SQS::Queue"),
        own("ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Alerts, Queue, TrainingStep]."),
        event("TrainingStep", "CREATE_FAILED", "Resource creation cancelled"),
        event("Queue", "CREATE_FAILED", "Resource creation cancelled", kind="AWS::SQS::Queue"),
        event("AlertsRole", "CREATE_FAILED", "Role already exists", kind="AWS::IAM::Role"),  # failed too, but later
    ])
    expect_events(aws, token="page-2", next_token="page-3", events=[
        event("Alerts", "CREATE_FAILED", cause),
        event("Queue", "CREATE_IN_PROGRESS", kind="AWS::SQS::Queue"),
        own("CREATE_IN_PROGRESS", "User Initiated"),  # the operation starts here: page 3 is never read
    ])

    with pytest.raises(DeployError) as failed:
        Run(package, aws)()

    assert str(failed.value) == (f"stack {NAME} did not deploy, it is ROLLBACK_COMPLETE: Alerts (AWS::Serverless::Function) CREATE_FAILED: "
                                 f"{cause} (the next deploy offers to delete the empty stack and create it again)")


def test_a_failed_update_without_a_resource_failure_reports_the_stacks_reason(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    expect_change_set(aws, "UPDATE", expect_upload(aws))
    expect_execution(aws, "UPDATE_ROLLBACK_COMPLETE", [])
    expect_events(aws, [own("UPDATE_ROLLBACK_COMPLETE"), own("UPDATE_IN_PROGRESS", "User Initiated")])
    expect_stack(aws, "UPDATE_ROLLBACK_COMPLETE", by=STACK_ID, reason="Stack update cancelled by a rollback trigger")

    with pytest.raises(DeployError, match="it is UPDATE_ROLLBACK_COMPLETE: UPDATE_ROLLBACK_COMPLETE: Stack update cancelled"):
        Run(package, aws)()


# ROLLBACK_COMPLETE: a failed first create left an empty stack

FAILED_CREATE = [
    own("ROLLBACK_COMPLETE"),
    event("RunsTable", "DELETE_SKIPPED", kind="AWS::DynamoDB::Table", physical_id="mlrelay-test-runs"),
    own("ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Alerts]."),
    event("Alerts", "CREATE_FAILED", "Role arn:aws:iam::123456789012:role/x is invalid"),
    own("CREATE_IN_PROGRESS", "User Initiated"),
]


def expect_failed_create(aws):
    expect_stack(aws, "ROLLBACK_COMPLETE", reason="The following resource(s) failed to create: [Alerts].")
    expect_events(aws, FAILED_CREATE)


def expect_deletion(aws):
    expect_events(aws, FAILED_CREATE[:1])
    aws.stub("cloudformation").add_response("delete_stack", {}, {"StackName": STACK_ID})
    expect_followed(aws, [("DELETE_IN_PROGRESS", []), ("DELETE_COMPLETE", [own("DELETE_COMPLETE")])])


class Terminal(io.StringIO):
    """Standard input as a terminal where the user typed this."""

    def isatty(self):
        return True


@pytest.mark.parametrize("how", ["--yes", "y on a terminal"])
def test_rollback_complete_is_deleted_once_agreed_then_created(package, how, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("") if how == "--yes" else Terminal("y\n"))
    aws = StubbedSession()
    expect_failed_create(aws)
    expect_checks(aws, deployed=False)  # the empty stack's functions are gone: the whole reservation counts
    expect_deletion(aws)
    expect_change_set(aws, "CREATE", expect_upload(aws))
    expect_execution(aws, "CREATE_COMPLETE", [])
    expect_step_scripts(aws)
    run = Run(package, aws, confirm=asker(yes=how == "--yes"))

    assert run().changed
    assert run.said[:3] == [
        f"stack {NAME} is ROLLBACK_COMPLETE: its first create failed (Alerts (AWS::Serverless::Function) CREATE_FAILED: "
        "Role arn:aws:iam::123456789012:role/x is invalid) and left an empty stack, which cannot be updated",
        "  the rollback kept RunsTable (AWS::DynamoDB::Table mlrelay-test-runs): if it still exists, the new create fails on its name; "
        "delete it first",
        f"deleting the empty stack {NAME}…",
    ]
    question = f"delete the empty stack {NAME} and create it again? [y/N]:"
    assert (question in capsys.readouterr().out) is (how != "--yes")


def test_rollback_complete_declined_deletes_nothing(package, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Terminal("\n"))  # the default: no
    aws = StubbedSession()
    expect_failed_create(aws)
    expect_checks(aws, deployed=False)

    with pytest.raises(DeployError, match=f"stack {NAME} left as it is, nothing deployed: delete it with `aws cloudformation delete-stack"):
        Run(package, aws, confirm=asker(yes=False))()


def test_rollback_complete_without_a_terminal_or_yes_is_refused_with_the_command(package, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    aws = StubbedSession()
    expect_failed_create(aws)
    expect_checks(aws, deployed=False)

    (refusal,) = Run(package, aws, confirm=asker(yes=False)).refused()

    assert refusal.startswith(f"stack {NAME} is ROLLBACK_COMPLETE (its first create failed: Alerts (AWS::Serverless::Function)")
    assert refusal.endswith(f"run `mlrelay deploy --stage {STAGE} --yes` to delete the empty stack and create it again")


def test_rollback_complete_in_plan_mode_says_what_deploy_would_do_and_changes_nothing(package):
    aws = StubbedSession()
    expect_failed_create(aws)
    expect_checks(aws, deployed=False)
    run = Run(package, aws, plan=True)

    assert not run().changed
    assert run.said[-1] == f"plan: deploy would delete the empty stack {NAME} and create it again; no change set was made"


# Stacks that take no change set

def test_a_stack_in_progress_is_refused(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_IN_PROGRESS")
    expect_checks(aws, deployed=True)

    (refusal,) = Run(package, aws).refused()

    assert refusal.startswith(f"stack {NAME} is UPDATE_IN_PROGRESS: another operation is running on it; wait for it to finish")


def test_update_rollback_failed_is_refused_with_continue_update_rollback(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_ROLLBACK_FAILED", reason="Resource Alerts failed to roll back")
    expect_checks(aws, deployed=True)

    (refusal,) = Run(package, aws).refused()

    assert f"(Resource Alerts failed to roll back), which takes no change set: finish the rollback with " \
           f"`aws cloudformation continue-update-rollback --stack-name {NAME}`" in refusal


@pytest.mark.parametrize(("status", "advice"), [
    ("UPDATE_FAILED", f"roll it back with `aws cloudformation rollback-stack --stack-name {NAME}`"),
    ("DELETE_FAILED", f"then run `mlrelay destroy --stage {STAGE}` again"),
    ("ROLLBACK_FAILED", f"delete it with `aws cloudformation delete-stack --stack-name {NAME}`"),
    ("CREATE_FAILED", f"delete it with `aws cloudformation delete-stack --stack-name {NAME}`"),
])
def test_each_failed_state_is_refused_before_anything_changes_with_what_to_do(package, status, advice):
    aws = StubbedSession()
    expect_stack(aws, status, reason="The following resource(s) failed")
    expect_checks(aws, deployed=True)

    (refusal,) = Run(package, aws).refused()  # and no upload, no change set: the Stubber would have failed on them

    assert refusal.startswith(f"stack {NAME} is {status} (The following resource(s) failed), which takes no change set")
    assert advice in refusal and refusal.endswith("then deploy again")


# Plan mode

def test_plan_on_a_new_stack_prints_the_change_set_then_deletes_it_and_the_review_stack(package):
    aws = StubbedSession()
    expect_no_stack(aws)
    expect_checks(aws, deployed=False)
    expect_change_set(aws, "CREATE", expect_upload(aws))
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    aws.stub("cloudformation").add_response("delete_stack", {}, {"StackName": STACK_ID})
    run = Run(package, aws, plan=True)

    deployed = run()

    assert not deployed.changed and deployed.outputs == {}
    assert run.said[-2:] == ["2 changes: 2 to add, 0 to modify (0 replaced or maybe replaced), 0 to remove",
                             f"plan only: change set deleted, stack {NAME} unchanged"]


def test_plan_on_a_stack_in_review_creates_and_deletes_only_the_change_set(package):
    aws = StubbedSession()
    expect_stack(aws, "REVIEW_IN_PROGRESS")  # left by an earlier change set: the stack is not ours to delete
    expect_checks(aws, deployed=False)
    expect_change_set(aws, "CREATE", expect_upload(aws))
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})

    assert not Run(package, aws, plan=True)().changed


def test_plan_on_a_deployed_stack_deletes_only_the_change_set(package):
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    expect_change_set(aws, "UPDATE", expect_upload(aws))
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})

    assert not Run(package, aws, plan=True)().changed


# Refusals, all at once, before anything changes

def test_a_foreign_account_a_short_account_and_no_slack_parameter_are_refused_together(package):
    aws = StubbedSession()
    expect_no_stack(aws)
    expect_checks(aws, deployed=False, account="999999999999", unreserved=10, slack=False)

    refusals = Run(package, aws).refused()

    assert [r.split(" ")[0] for r in refusals] == ["RedshiftCopyRoleArn", "reserved", "the"]
    assert f"account {ACCOUNT} while the caller is account 999999999999" in refusals[0]
    assert "limit of 1000" in refusals[1] and f"put-parameter --type SecureString --name {SLACK}" in refusals[2]


def test_an_arn_of_the_commercial_partition_is_refused_in_a_china_region(package):
    aws = StubbedSession("cn-north-1")
    expect_no_stack(aws)
    expect_checks(aws, deployed=False)

    (refusal,) = Run(package, aws).refused()

    assert refusal.startswith("RedshiftCopyRoleArn in infra/parameters/test.json names arn:aws:iam::")
    assert "partition aws while the caller's region is in aws-cn" in refusal


@pytest.mark.parametrize(("frameworks", "refused"), [(None, ["no huggingface 4.49.0 training image in eu-central-2"]), (("sklearn",), [])])
def test_a_region_without_images_is_refused_unless_frameworks_names_only_those_it_has(package, frameworks, refused):
    aws = StubbedSession("eu-central-2")
    expect_stack(aws, "UPDATE_COMPLETE", outputs=OUTPUTS)
    expect_checks(aws, deployed=True)
    run = Run(package, aws, plan=True, frameworks=frameworks)
    if refused:
        assert [r.split(":")[0] for r in run.refused()] == refused
        return
    expect_change_set(aws, "UPDATE", expect_upload(aws))
    aws.stub("cloudformation").add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})

    assert not run().changed


def test_an_update_over_versions_registered_outside_the_stages_groups_is_refused_with_the_migration(package):
    table = f"{NAME}-models"
    old = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/packaging-type/1"
    aws = StubbedSession()
    expect_stack(aws, "UPDATE_COMPLETE", outputs={**OUTPUTS, "ModelsTableName": table})
    expect_checks(aws, deployed=True)
    dynamodb = aws.stub("dynamodb")
    dynamodb.add_response("scan", {"Items": [{"model_name": {"S": "packaging-type"}}]},
                          {"TableName": table, "ProjectionExpression": "model_name"})
    dynamodb.add_response("query", {"Items": [{
        "model_name": {"S": "packaging-type"}, "version_key": {"S": "v000001"}, "version": {"N": "1"}, "status": {"S": "Approved"},
        "run_id": {"S": "r1"}, "model_package_arn": {"S": old}, "metrics": {"M": {}}, "decision": {"M": {}},
        "created_at": {"S": "2026-11-01"}, "config": {"M": {}}}]}, ANY_QUERY)

    (refusal,) = Run(package, aws).refused()

    assert "1 model versions registered in groups outside mlrelay-test-* (packaging-type (1))" in refusal
    assert refusal.endswith("run `mlrelay --stage test models migrate-registry` first, then deploy")


# The command line

def test_dry_run_and_plan_together_are_refused_before_packaging():
    from typer.testing import CliRunner

    from mlrelay.cli.main import app

    result = CliRunner().invoke(app, ["deploy", "--stage", "prod", "--dry-run", "--plan"])

    assert result.exit_code == 1 and "pass one" in result.output

def test_each_refusal_is_one_line_however_narrow_the_terminal(capsys):
    long = "RedshiftCopyRoleArn in infra/parameters/prod.json names arn:aws:iam::123456789012:role/[x]: " + "what to do " * 20

    with pytest.raises(Exception) as exited:
        refuse([long, "second"])

    lines = capsys.readouterr().err.splitlines()
    assert exited.value.exit_code == 1 and lines == [f"refused: {long}", "refused: second"]


@pytest.mark.parametrize(("typed", "agreed"), [("y\n", True), ("\n", False)])
def test_a_terminal_is_asked_and_no_is_the_default(monkeypatch, typed, agreed):
    monkeypatch.setattr(sys, "stdin", Terminal(typed))

    assert asker(yes=False)("delete?") is agreed


def test_without_a_terminal_nobody_is_asked_unless_yes(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    assert asker(yes=False) is None and asker(yes=True)("delete?") is True
