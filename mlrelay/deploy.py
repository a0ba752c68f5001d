"""`make deploy STAGE=...`: ship the packaged template and zip with CloudFormation (boto3).

The template is SAM (Chalice's output), so the stack is created through a
change set with CAPABILITY_AUTO_EXPAND. The zip and the template go to a
deployment bucket first: the template is larger than CloudFormation accepts
inline (51,200 bytes). After the stack, the pipeline step scripts are uploaded
to the artifact bucket, where the pipeline definitions expect them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from mlrelay.packaging import PROJECT_ROOT, Package
from mlrelay.pipeline_builder.code import code_bundle

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(RuntimeError):
    """The stack could not be deployed; the message says what CloudFormation said."""


@dataclass(frozen=True)
class Deployed:
    stack_name: str
    outputs: dict[str, str]
    changed: bool


def stack_name(stage: str) -> str:
    return f"mlrelay-{stage}"


def stack_parameters(stage: str, project_root: Path = PROJECT_ROOT) -> list[dict[str, str]]:
    """infra/parameters/<stage>.json as CloudFormation parameters (Stage included)."""
    path = project_root / "infra" / "parameters" / f"{stage}.json"
    if not path.exists():
        raise DeployError(f"{path} is missing: every stage needs its parameters (copy infra/parameters/dev.json)")
    values = {"Stage": stage, **json.loads(path.read_text())}
    return [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in values.items()]


def with_uploaded_code(template: dict[str, Any], code_uri: str) -> dict[str, Any]:
    """The template with every function's local CodeUri replaced by the uploaded zip."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    return template


def deploy(package: Package, session: Any, say: Callable[[str], None]) -> Deployed:
    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    s3, cfn = session.client("s3"), session.client("cloudformation")
    bucket = _deployment_bucket(s3, f"mlrelay-{package.stage}-deploy-{account}-{region}", region)
    zip_key = f"deploy/{_digest(package.zip_file.read_bytes())}.zip"
    s3.upload_file(str(package.zip_file), bucket, zip_key)
    template = with_uploaded_code(json.loads(package.template.read_text()), f"s3://{bucket}/{zip_key}")
    body = json.dumps(template).encode()
    template_key = f"deploy/{package.stage}-{_digest(body)}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    say(f"uploaded s3://{bucket}/{zip_key} and the template")
    name = stack_name(package.stage)
    template_url = f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"
    changed = _apply_change_set(cfn, name, template_url, stack_parameters(package.stage), say)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])}
    bundle = code_bundle()
    bundle.upload(s3, outputs["ArtifactBucketName"])
    say(f"step scripts uploaded to s3://{outputs['ArtifactBucketName']}/{bundle.prefix}/")
    return Deployed(name, outputs, changed)


def _apply_change_set(cfn: Any, name: str, template_url: str, parameters: list[dict[str, str]], say: Callable[[str], None]) -> bool:
    exists = _stack_exists(cfn, name)
    change_set = cfn.create_change_set(
        StackName=name, ChangeSetName=f"{name}-{_digest(template_url.encode())[:12]}", TemplateURL=template_url,
        Parameters=parameters, Capabilities=CAPABILITIES, ChangeSetType="UPDATE" if exists else "CREATE",
    )["Id"]
    try:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except WaiterError as err:
        reason = cfn.describe_change_set(ChangeSetName=change_set).get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            say("no changes: the stack is up to date")
            cfn.delete_change_set(ChangeSetName=change_set)
            return False
        raise DeployError(f"CloudFormation refused the change set for {name}: {reason}") from err
    say(f"{'updating' if exists else 'creating'} stack {name}…")
    cfn.execute_change_set(ChangeSetName=change_set)
    waiter = cfn.get_waiter("stack_update_complete" if exists else "stack_create_complete")
    try:
        waiter.wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    except WaiterError as err:
        raise DeployError(f"stack {name} did not deploy: {_first_failure(cfn, name)}") from err
    return True


def _stack_exists(cfn: Any, name: str) -> bool:
    try:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as err:
        if "does not exist" in str(err):
            return False
        raise DeployError(f"cannot read stack {name}: {err}") from err
    return status != "REVIEW_IN_PROGRESS"


def _first_failure(cfn: Any, name: str) -> str:
    for event in cfn.describe_stack_events(StackName=name)["StackEvents"]:
        if event["ResourceStatus"].endswith("_FAILED"):
            return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
    return "see the stack's events in the CloudFormation console"


def _deployment_bucket(s3: Any, bucket: str, region: str) -> str:
    try:
        s3.head_bucket(Bucket=bucket)
        return bucket
    except ClientError:
        pass
    options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **options)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    return bucket


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
