"""`make deploy STAGE=...`: ship the packaged template and zip with CloudFormation (boto3).

Before changing anything, deploy reads the stack's status and runs the checks of mlrelay/deploy_checks.py;
every refusal is reported at once. The template is SAM (Chalice's output), so the stack is created through
a change set with CAPABILITY_AUTO_EXPAND. The zip and the template go to a deployment bucket first: the
template is larger than CloudFormation accepts inline (51,200 bytes). After the stack, the pipeline step
scripts are uploaded to the artifact bucket, where the pipeline definitions expect them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from mlrelay import deploy_checks
from mlrelay.change_sets import ChangeSet, create_change_set, summary
from mlrelay.packaging import CODE_HASH_METADATA, PROJECT_ROOT, Package, code_sha256
from mlrelay.pipeline_builder.code import code_bundle
from mlrelay.stack_events import (
    Pace,
    describe,
    earliest_failure,
    follow,
    kept_by_rollback,
    newest_event_id,
    operation_events,
    why_it_failed,
)

Say = Callable[[str], None]


class DeployError(RuntimeError):
    """The stack could not be deployed; the message says what CloudFormation said and what to do."""


class DeployRefused(DeployError):
    """Deploying would break something; nothing was changed. One line per refusal."""

    def __init__(self, refusals: list[str]):
        super().__init__("; ".join(refusals))
        self.refusals = refusals


@dataclass(frozen=True)
class Deployed:
    stack_name: str
    outputs: dict[str, str]
    changed: bool


@dataclass(frozen=True)
class DeployOptions:
    plan: bool = False  # stop after printing the change set (and delete it)
    frameworks: tuple[str, ...] | None = None  # whose images the region must have; None: all of images.json
    confirm: Callable[[str], bool] | None = None  # None: nobody to ask (no tty and no --yes)
    pace: Pace = field(default_factory=Pace)
    project_root: Path = PROJECT_ROOT


@dataclass(frozen=True)
class StackMove:
    """What the stack's status allows: a change set of this type (after deleting an empty stack), or a refusal."""

    change_set_type: str = ""
    recreate: bool = False
    refusal: str = ""


def stack_name(stage: str) -> str:
    return f"mlrelay-{stage}"


def deployment_bucket_name(stage: str, account: str, region: str) -> str:
    return f"mlrelay-{stage}-deploy-{account}-{region}"


def stack_move(status: str | None, stage: str, reason: str = "") -> StackMove:
    """Decide from the stack's status alone (None: no stack)."""
    name, why = stack_name(stage), f" ({reason})" if reason else ""
    if status in (None, "REVIEW_IN_PROGRESS", "DELETE_COMPLETE"):
        return StackMove("CREATE")
    if status == "ROLLBACK_COMPLETE":  # a failed first create: an empty stack that takes no update
        return StackMove("CREATE", recreate=True)
    if status.endswith("_IN_PROGRESS"):
        return StackMove(refusal=f"stack {name} is {status}: another operation is running on it; wait for it to finish "
                                 f"(`aws cloudformation describe-stacks --stack-name {name}`), then deploy again")
    if status.endswith("_COMPLETE"):  # CREATE_, UPDATE_, UPDATE_ROLLBACK_, IMPORT_, IMPORT_ROLLBACK_COMPLETE
        return StackMove("UPDATE")
    todo = {
        "UPDATE_ROLLBACK_FAILED": f"finish the rollback with `aws cloudformation continue-update-rollback --stack-name {name}` "
                                  "(add --resources-to-skip for the resources it cannot roll back)",
        "UPDATE_FAILED": f"roll it back with `aws cloudformation rollback-stack --stack-name {name}`",
        "DELETE_FAILED": f"fix what its events name, then run `mlrelay destroy --stage {stage}` again "
                         f"(or `aws cloudformation delete-stack --stack-name {name} --retain-resources LOGICAL_ID...`)",
        "ROLLBACK_FAILED": f"delete it with `aws cloudformation delete-stack --stack-name {name}` "
                           "(add --retain-resources for the resources it cannot delete)",
    }
    todo["CREATE_FAILED"] = todo["ROLLBACK_FAILED"]
    what = todo.get(status, "resolve it in the CloudFormation console")
    return StackMove(refusal=f"stack {name} is {status}{why}, which takes no change set: {what}, then deploy again")


def stack_parameters(stage: str, project_root: Path = PROJECT_ROOT) -> list[dict[str, str]]:
    """infra/parameters/<stage>.json as CloudFormation parameters (Stage included)."""
    path = project_root / "infra" / "parameters" / f"{stage}.json"
    if not path.exists():
        raise DeployError(f"{path} is missing: every stage needs its parameters (copy infra/parameters/dev.json)")
    values = {"Stage": stage, **json.loads(path.read_text())}
    return [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in values.items()]


def with_uploaded_code(template: dict[str, Any], code_uri: str, code: bytes) -> dict[str, Any]:
    """The template with every function's local CodeUri replaced by the uploaded zip, whose hash it records
    (`mlrelay doctor` checks each function runs that code)."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    template.setdefault("Metadata", {})[CODE_HASH_METADATA] = code_sha256(code)
    return template


def deploy(package: Package, session: Any, say: Say, options: DeployOptions | None = None) -> Deployed:
    """Refuse what would break (all at once, nothing changed), then ship through a change set."""
    options = options or DeployOptions()
    stage, name, region = package.stage, stack_name(package.stage), session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    cfn = session.client("cloudformation")
    template = json.loads(package.template.read_text())
    parameters = stack_parameters(stage, options.project_root)
    stack = describe(cfn, name)
    move = stack_move(stack["StackStatus"] if stack else None, stage, (stack or {}).get("StackStatusReason", ""))
    failed_create = operation_events(cfn, stack["StackId"]) if stack and move.recreate else []
    values = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    # A stack to create (absent, in review, or emptied by a failed create) has no function holding a reservation yet.
    refusals = [move.refusal] if move.refusal else []
    refusals += refusals_for(session, account, template, values, stage, options.frameworks, deployed=move.change_set_type != "CREATE")
    refusals += _old_registry_groups(session, stack, stage) if move.change_set_type == "UPDATE" else []
    if move.recreate and options.confirm is None and not options.plan:
        refusals.append(f"stack {name} is ROLLBACK_COMPLETE (its first create failed: {_failure(failed_create)}) and cannot be updated: "
                        f"run `mlrelay deploy --stage {stage} --yes` to delete the empty stack and create it again")
    if refusals:
        raise DeployRefused(refusals)
    if stack and move.recreate:
        _tell_failed_create(name, failed_create, say)
        if options.plan:
            say(f"plan: deploy would delete the empty stack {name} and create it again; no change set was made")
            return Deployed(name, {}, changed=False)
        _delete_empty_stack(cfn, stack, say, options)
    template_url = _upload(session.client("s3"), package, template, deployment_bucket_name(stage, account, region), region, say)
    change_set = create_change_set(cfn, name, template_url, parameters, move.change_set_type, options.pace)
    if change_set is None:
        say("no changes: the stack is up to date")
        return _with_step_scripts(session.client("s3"), Deployed(name, _outputs(stack or {}), changed=False), say)
    for line in summary(change_set):
        say(line)
    if options.plan:
        _discard(cfn, change_set, created_stack=stack is None, say=say)
        return Deployed(name, {}, changed=False)
    return _with_step_scripts(session.client("s3"), Deployed(name, _outputs(_execute(cfn, change_set, say, options.pace)), True), say)


def refusals_for(session: Any, account: str, template: dict[str, Any], parameters: dict[str, str], stage: str,
                 frameworks: tuple[str, ...] | None, deployed: bool) -> list[str]:
    """Every check of deploy_checks, in the caller's account and region."""
    region = session.region_name
    default = template.get("Parameters", {}).get("SlackWebhookParameterName", {}).get("Default")
    slack = parameters.get("SlackWebhookParameterName") or default
    return [
        *deploy_checks.foreign_arn_refusals(parameters, account, session.get_partition_for_region(region), stage),
        *deploy_checks.concurrency_refusals(session.client("lambda"), template, stage, deployed=deployed),
        *deploy_checks.image_refusals(region, frameworks),
        *(deploy_checks.slack_parameter_refusals(session.client("ssm"), slack) if slack else []),
    ]


def _old_registry_groups(session: Any, stack: dict[str, Any] | None, stage: str) -> list[str]:
    """A stage deployed before its registry groups were its own holds versions the new roles cannot read."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.registry_migration import old_group_refusals

    table = _outputs(stack or {}).get("ModelsTableName")
    return old_group_refusals(ModelVersions(table, session.client("dynamodb")), stage) if table else []


def _failure(events: list[dict[str, Any]]) -> str:
    return earliest_failure(events) or "no resource failure recorded"


def _tell_failed_create(name: str, events: list[dict[str, Any]], say: Say) -> None:
    say(f"stack {name} is ROLLBACK_COMPLETE: its first create failed ({_failure(events)}) and left an empty stack, which cannot be updated")
    # The template's data is RetainExceptOnCreate, so a failed create deletes it; a resource a rollback kept
    # anyway (DELETE_SKIPPED: Retain, or a template of before) makes a create under the same name fail.
    for event in kept_by_rollback(events):
        say(f"  the rollback kept {event['LogicalResourceId']} ({event.get('ResourceType', '?')} {event['PhysicalResourceId']}): "
            "if it still exists, the new create fails on its name; delete it first")


def _delete_empty_stack(cfn: Any, stack: dict[str, Any], say: Say, options: DeployOptions) -> None:
    name = stack["StackName"]
    if options.confirm is None or not options.confirm(f"delete the empty stack {name} and create it again?"):
        raise DeployError(f"stack {name} left as it is, nothing deployed: delete it with "
                          f"`aws cloudformation delete-stack --stack-name {name}`, or deploy again and answer y (or pass --yes)")
    after = newest_event_id(cfn, stack["StackId"])
    cfn.delete_stack(StackName=stack["StackId"])
    say(f"deleting the empty stack {name}…")
    gone = follow(cfn, stack["StackId"], say, options.pace, after)
    if gone["StackStatus"] != "DELETE_COMPLETE":
        raise DeployError(f"could not delete the empty stack {name} ({gone['StackStatus']}): {why_it_failed(cfn, stack['StackId'])}")


def _execute(cfn: Any, change_set: ChangeSet, say: Say, pace: Pace) -> dict[str, Any]:
    after = newest_event_id(cfn, change_set.stack_id)
    cfn.execute_change_set(ChangeSetName=change_set.id)
    say(f"{'creating' if change_set.type == 'CREATE' else 'updating'} stack {change_set.stack_name}…")
    stack = follow(cfn, change_set.stack_id, say, pace, after)
    if stack["StackStatus"] != f"{change_set.type}_COMPLETE":
        status = stack["StackStatus"]
        then = " (the next deploy offers to delete the empty stack and create it again)" if status == "ROLLBACK_COMPLETE" else ""
        raise DeployError(f"stack {change_set.stack_name} did not deploy, it is {status}: {why_it_failed(cfn, change_set.stack_id)}{then}")
    return stack


def _discard(cfn: Any, change_set: ChangeSet, created_stack: bool, say: Say) -> None:
    cfn.delete_change_set(ChangeSetName=change_set.id)
    if created_stack:  # a CREATE change set made an empty REVIEW_IN_PROGRESS stack; leave nothing behind
        cfn.delete_stack(StackName=change_set.stack_id)
    say(f"plan only: change set deleted, stack {change_set.stack_name} unchanged")


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _with_step_scripts(s3: Any, deployed: Deployed, say: Say) -> Deployed:
    bundle = code_bundle()
    bucket = deployed.outputs["ArtifactBucketName"]
    bundle.upload(s3, bucket)
    say(f"step scripts uploaded to s3://{bucket}/{bundle.prefix}/")
    return deployed


def _upload(s3: Any, package: Package, template: dict[str, Any], bucket: str, region: str, say: Say) -> str:
    """The zip and the template in the deployment bucket; the template's URL (the S3 endpoint names the partition's domain)."""
    _deployment_bucket(s3, bucket, region)
    code = package.zip_file.read_bytes()
    zip_key = f"deploy/{_digest(code)}.zip"
    s3.put_object(Bucket=bucket, Key=zip_key, Body=code)
    body = json.dumps(with_uploaded_code(template, f"s3://{bucket}/{zip_key}", code)).encode()
    template_key = f"deploy/{package.stage}-{_digest(body)}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    say(f"uploaded s3://{bucket}/{zip_key} and the template")
    return f"https://{bucket}.{urlsplit(s3.meta.endpoint_url).netloc}/{template_key}"


def _deployment_bucket(s3: Any, bucket: str, region: str) -> str:
    try:
        s3.head_bucket(Bucket=bucket)
        return bucket
    except ClientError:
        pass
    options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **options)
    except ClientError as err:
        raise DeployError(f"cannot create the deployment bucket {bucket}: {err}") from err
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    return bucket


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
