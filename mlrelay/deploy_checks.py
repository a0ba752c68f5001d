"""What `mlrelay deploy` refuses before it changes anything (`mlrelay doctor` asks a running stack its own questions).

Each check is handed what it reads (a boto3 client, the packaged template, the stage's parameters) and
returns refusals: one line each, what is wrong and what to do. An empty list means go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from mlrelay.pipeline_builder.images import IMAGES_FILE

# Lambda refuses a reservation that would leave the account fewer unreserved concurrent executions than this.
UNRESERVED_FLOOR = 100
CONCURRENCY_QUOTA = "L-B99A9384"  # Service Quotas: Lambda "Concurrent executions"


def foreign_arn_refusals(parameters: Mapping[str, str], account: str, partition: str, stage: str) -> list[str]:
    """ARN parameters (CommaDelimitedList ones too) naming another account or partition than the caller's."""
    refusals = []
    for key, value in parameters.items():
        for arn in (part.strip() for part in str(value).split(",")):
            if not arn.startswith("arn:"):
                continue
            fields = arn.split(":", 5)
            if len(fields) < 6:
                refusals.append(f"{key} in infra/parameters/{stage}.json is not an ARN ({arn}): "
                                "write arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")
                continue
            problems = []
            if fields[1] != partition:
                problems.append(f"partition {fields[1]} while the caller's region is in {partition}")
            if fields[4] and fields[4] != account:  # S3 ARNs name no account
                problems.append(f"account {fields[4]} while the caller is account {account}")
            if problems:
                refusals.append(
                    f"{key} in infra/parameters/{stage}.json names {arn}: {' and '.join(problems)}; "
                    f"point it at the resource in account {account} (arn:{partition}:...), or deploy with that account's credentials"
                )
    return refusals


def reserved_concurrency(template: Mapping[str, Any], stage: str) -> dict[str, int]:
    """Function name -> ReservedConcurrentExecutions, for the template's functions that reserve any."""
    reserved = {}
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        value = properties.get("ReservedConcurrentExecutions")
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function") or value is None:
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            reserved[_function_name(properties.get("FunctionName"), stage, logical_id)] = int(value)
    return reserved


def _function_name(name: Any, stage: str, logical_id: str) -> str:
    # infra/resources.json names every function {"Fn::Sub": "mlrelay-${Stage}-<name>"}.
    if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
        name = name["Fn::Sub"].replace("${Stage}", stage)
    return name if isinstance(name, str) else f"mlrelay-{stage}-{logical_id}"


def concurrency_refusals(lambda_client: Any, template: Mapping[str, Any], stage: str, deployed: bool = True) -> list[str]:
    """Reserved concurrency that would leave the account fewer than 100 unreserved executions.

    On a deployed stack (deployed=True) its functions already hold part of their reservation: only the
    increase over what they reserve now counts. deployed=False reads no function (a first create).
    """
    wanted = reserved_concurrency(template, stage)
    total = sum(wanted.values())
    if not total:
        return []
    limits = lambda_client.get_account_settings()["AccountLimit"]
    limit, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    now = sum(_reserved_now(lambda_client, name) for name in wanted) if deployed else 0
    left = unreserved - (total - now)
    if left >= UNRESERVED_FLOOR:
        return []
    region = lambda_client.meta.region_name
    leaving = f"leaving {left} unreserved" if left >= 0 else f"{-left} more than the account has unreserved"
    return [
        f"reserved concurrency: the stack's functions would reserve {total} concurrent executions ({total - now} more than now), "
        f"{leaving} of its limit of {limit} in {region}; Lambda keeps at least {UNRESERVED_FLOOR} unreserved: "
        f"lower reserved_concurrency for stage {stage} in .chalice/config.json, or ask AWS for a higher limit "
        f"(`aws service-quotas request-service-quota-increase --service-code lambda --quota-code {CONCURRENCY_QUOTA} "
        f"--desired-value 1000 --region {region}`)"
    ]


def _reserved_now(lambda_client: Any, name: str) -> int:
    try:
        return lambda_client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions", 0)
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return 0
        raise


def load_images(path: Path = IMAGES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def image_refusals(region: str, frameworks: Iterable[str] | None = None, images: Mapping[str, Any] | None = None) -> list[str]:
    """Frameworks (default: all that images.json lists) whose default version has no training or inference image in the region.

    The cpu image is checked where the framework has one, else the gpu one (huggingface trains on gpu only).
    """
    table = images if images is not None else load_images()
    versions = table["default_versions"]
    refusals = []
    for framework in sorted(versions) if frameworks is None else frameworks:
        if framework not in versions:
            refusals.append(f"--frameworks names {framework!r}, which mlrelay has no images for: use some of {', '.join(sorted(versions))}")
            continue
        version = versions[framework]
        for scope in ("training", "inference"):
            keys = [f"{framework}/{version}/{scope}/{processor}" for processor in ("cpu", "gpu")]
            image: dict[str, Any] = next((table["images"][key] for key in keys if key in table["images"]), {"registries": {}})
            if region not in image["registries"]:
                refusals.append(
                    f"no {framework} {version} {scope} image in {region}: choose another region, or pass --frameworks "
                    "with only the frameworks your team's configs use (e.g. --frameworks sklearn,xgboost)"
                )
    return refusals


def slack_parameter_refusals(ssm: Any, name: str) -> list[str]:
    """The SSM parameter holding the Slack webhook URL must exist (CloudFormation cannot create a SecureString)."""
    create = f"`aws ssm put-parameter --type SecureString --name {name} --value https://hooks.slack.com/...`"
    try:
        ssm.get_parameter(Name=name, WithDecryption=False)
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code == "ParameterNotFound":
            return [f"the Slack webhook parameter {name} does not exist in {ssm.meta.region_name}: create it with {create}"]
        return [f"cannot read the Slack webhook parameter {name} ({code}): allow ssm:GetParameter on it, or create it with {create}"]
    return []
