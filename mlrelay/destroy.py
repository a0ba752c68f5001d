"""`mlrelay destroy --stage STAGE`: delete stack mlrelay-STAGE, and say what outlives it and how to delete that too.

What outlives the stack: the resources whose DeletionPolicy keeps them (the artifact bucket and the five
tables), the deployment bucket `mlrelay deploy` creates beside the stack, and the SSM parameter holding the
Slack webhook, which the team created. What runs made outside the stack (each model's IAM role and pipeline
copy, each deployed endpoint with its config, model and alarm, mlrelay/run_made.py) is deleted with it, first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.shared.naming import model_role_path
from mlrelay import run_made
from mlrelay.deploy import deployment_bucket_name, stack_name
from mlrelay.stack_events import Pace, StackError, describe, follow, newest_event_id, why_it_failed

KEEPING_POLICIES = {"Retain", "RetainExceptOnCreate"}


@dataclass(frozen=True)
class Kept:
    what: str  # e.g. "AWS::DynamoDB::Table RunsTable"
    physical_id: str
    how_to_delete: str


def retained_in(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> type of the template's resources that a stack deletion keeps."""
    return {logical_id: resource["Type"] for logical_id, resource in template.get("Resources", {}).items()
            if resource.get("DeletionPolicy") in KEEPING_POLICIES}


def how_to_delete(kind: str, physical_id: str) -> str:
    if kind == "AWS::S3::Bucket":
        return (f"empty it of every object version (S3 console: Empty), then `aws s3api delete-bucket --bucket {physical_id}`; "
                "it holds every config, run output and model artifact")
    if kind == "AWS::DynamoDB::Table":
        return f"`aws dynamodb delete-table --table-name {physical_id}`"
    return "delete it in its service's console"


def kept_resources(cfn: Any, stack: str) -> list[Kept]:
    """The stack's resources its template retains, with their physical ids.

    list_stack_resources, not describe_stack_resources: that returns at most 100 resources and the stack has more.
    """
    body = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    retained = retained_in(body if isinstance(body, dict) else json.loads(body))
    kept = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            logical_id, physical_id = resource["LogicalResourceId"], resource.get("PhysicalResourceId")
            if logical_id in retained and physical_id:
                kind = resource["ResourceType"]
                kept.append(Kept(f"{kind} {logical_id}", physical_id, how_to_delete(kind, physical_id)))
    return kept


def kept_beside(session: Any, stage: str, stack: dict[str, Any]) -> list[Kept]:
    """What `mlrelay deploy` and the team made outside the stack: the deployment bucket and the Slack parameter."""
    kept = []
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = deployment_bucket_name(stage, account, session.region_name)
    try:
        session.client("s3").head_bucket(Bucket=bucket)
        kept.append(Kept("deployment bucket", bucket, f"`aws s3 rb s3://{bucket} --force` (templates and zips of past deploys)"))
    except ClientError:
        pass  # never deployed from here, or already deleted
    parameter = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}.get("SlackWebhookParameterName")
    if parameter:
        try:
            session.client("ssm").get_parameter(Name=parameter, WithDecryption=False)
            kept.append(Kept("SSM parameter (Slack webhook URL)", parameter, f"`aws ssm delete-parameter --name {parameter}`"))
        except ClientError:
            pass
    return kept


def destroy(session: Any, stage: str, say: Callable[[str], None], confirm: Callable[[str], bool] | None,
            pace: Pace | None = None) -> list[Kept]:
    """Delete the stack after confirm() agrees (None: nobody to ask, refuse); what it kept."""
    cfn, name = session.client("cloudformation"), stack_name(stage)
    stack = describe(cfn, name)
    if stack is None:
        raise StackError(f"no stack {name} in {session.region_name}: nothing to destroy (check --region and --profile)")
    if stack["StackStatus"].endswith("_IN_PROGRESS"):
        raise StackError(f"stack {name} is {stack['StackStatus']}: another operation is running on it; wait for it to finish, then destroy")
    kept = kept_resources(cfn, stack["StackId"]) + kept_beside(session, stage, stack)
    say(f"deleting stack {name} ({stack['StackStatus']}) deletes every resource it holds except these, which it keeps:")
    for item in kept:
        say(f"  {item.what}: {item.physical_id} (to delete it too: {item.how_to_delete})")
    say(f"  and the SageMaker model package groups runs registered (not stack resources): "
        f"`aws sagemaker list-model-package-groups --name-contains mlrelay-{stage}-` lists them")
    if confirm is None:
        raise StackError(f"not deleting {name} without a confirmation: run `mlrelay destroy --stage {stage} --yes`")
    if not confirm(f"delete stack {name}?"):
        raise StackError(f"stack {name} left as it is")
    _delete_what_runs_made(session, stage, say)
    after = newest_event_id(cfn, stack["StackId"])
    cfn.delete_stack(StackName=stack["StackId"])
    say(f"deleting stack {name}…")
    gone = follow(cfn, stack["StackId"], say, pace or Pace(), after)
    if gone["StackStatus"] != "DELETE_COMPLETE":
        raise StackError(f"stack {name} is {gone['StackStatus']}: {why_it_failed(cfn, stack['StackId'])}; fix what it names and run "
                         f"`mlrelay destroy --stage {stage}` again (or keep that resource: "
                         f"`aws cloudformation delete-stack --stack-name {name} --retain-resources LOGICAL_ID`)")
    say(f"stack {name} deleted; the {len(kept)} resources above remain")
    return kept


def _delete_what_runs_made(session: Any, stage: str, say: Callable[[str], None]) -> None:
    sagemaker, iam = session.client("sagemaker"), session.client("iam")
    cloudwatch = session.client("cloudwatch")
    serving = run_made.serving_resources(sagemaker, stage)
    # before the roles: the endpoints' models name them
    run_made.delete_serving_resources(sagemaker, cloudwatch, serving, run_made.rollback_alarms(cloudwatch, stage))
    copies, roles = run_made.pipeline_copies(sagemaker, stage), run_made.model_roles(iam, stage)
    run_made.delete_pipeline_copies(sagemaker, copies)
    run_made.delete_model_roles(iam, roles)
    say(f"deleted what runs made: {len(serving['endpoints'])} endpoints (with their configs, models and alarms), "
        f"{len(copies)} pipeline copies and {len(roles)} model roles (each model's own, under {model_role_path(stage)})")
