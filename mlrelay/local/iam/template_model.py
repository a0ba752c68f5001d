"""The IAM model of an applied template: the roles `chalice package` and SAM would create, the resource policies,
and which resources a customer KMS key encrypts.

Roles are named as on AWS up to CloudFormation's random suffix:
`mlrelay-<stage>-<LogicalId>` (a function's role is `<Function>Role`, a state
machine's `<StateMachine>Role`), so `mlrelay-<stage>-*` in a key policy's
condition matches them here as it does there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mlrelay.local.iam.policies import Statement
from mlrelay.local.iam.principals import IamModel, ManagedPolicy, Role, role_statements, trusted_services
from mlrelay.local.template import Template, TemplateError

Resolve = Callable[[Any], Any]
LAMBDA_TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
STATES_TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
KEY_POLICY_FILE = Path("infra") / "kms-key-policy.json"


def state_machine_role_name(stage: str, logical_id: str) -> str:
    return f"mlrelay-{stage}-{logical_id}Role"


def managed_policy_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:policy/{name}"


def function_role_name(stage: str, function_logical_id: str) -> str:
    """The role chalice gives a function, <Function>Role, named as CloudFormation would (less its suffix)."""
    return f"mlrelay-{stage}-{function_logical_id}Role"


def build(
    template: Template,
    resolve: Resolve,
    function_ids: Iterable[str],
    stage: str,
    account: str,
    arn_of: Callable[[str], str],
    project_root: Path,
    parameters: Mapping[str, str],
) -> IamModel:
    """`resolve` resolves intrinsics; `arn_of(logical_id)` gives a created resource's ARN."""
    model = IamModel(account)
    merge = template.merge_only()
    for function_id in function_ids:
        role_id = f"{function_id}Role"
        policies = resolve(merge.get(role_id, {}).get("Properties", {}).get("Policies", []))
        _add_role(model, role_id, function_role_name(stage, function_id), LAMBDA_TRUST, policies, account)
    for logical_id, spec in template.declared().items():
        kind, properties = spec["Type"], spec.get("Properties", {})
        if kind == "AWS::IAM::Role":
            resolved = resolve(properties)
            _add_role(model, logical_id, resolved["RoleName"], resolved["AssumeRolePolicyDocument"], resolved.get("Policies", []), account)
        elif kind == "AWS::IAM::ManagedPolicy":
            resolved = resolve(properties)
            name = resolved["ManagedPolicyName"]
            census_name = f"mlrelay-{stage}-{logical_id}"
            statements = _statements(f"{census_name}/{name}", resolved["PolicyDocument"])
            arn = managed_policy_arn(account, name)
            model.managed_policies[arn] = ManagedPolicy(logical_id, name, arn, statements, census_name)
        elif kind == "AWS::Serverless::StateMachine" and "Role" not in properties:
            policies = [_inline_policy(logical_id, p) for p in resolve(properties.get("Policies", []))]
            _add_role(model, f"{logical_id}Role", state_machine_role_name(stage, logical_id), STATES_TRUST, policies, account)
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            resolved = resolve(properties)
            for arn in _policy_targets(kind, resolved, arn_of, template, resolve):
                attached = _statements(f"policy of {arn}", resolved["PolicyDocument"])
                model.resource_policies[arn] = model.resource_policies.get(arn, ()) + attached
        elif kind == "AWS::Lambda::Permission":
            resolved = resolve(properties)
            function_arn = resolved["FunctionName"]
            if not function_arn.startswith("arn:"):
                from mlrelay.local.state_file import REGION

                function_arn = f"arn:aws:lambda:{REGION}:{account}:function:{function_arn}"
            statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": resolved["Principal"]}, "Action": resolved["Action"]}
            if "SourceArn" in resolved:
                statement["Condition"] = {"ArnLike": {"aws:SourceArn": resolved["SourceArn"]}}
            model.resource_policies[function_arn] = model.resource_policies.get(function_arn, ()) + (Statement(f"{logical_id}", statement),)
    key = parameters.get("KmsKeyArn", "")
    if key:
        _add_key(model, template, resolve, key, project_root, stage, parameters)
    return model


def _add_role(model: IamModel, logical_id: str, name: str, trust: Mapping[str, Any], policies: list[Any], account: str) -> None:
    role = Role(logical_id, name, account, role_statements(name, policies), trusted_services(trust))
    model.roles[role.arn] = role


def _inline_policy(state_machine: str, policy: Any) -> dict[str, Any]:
    if isinstance(policy, dict) and set(policy) == {"Statement"}:
        return {"PolicyName": f"{state_machine}Policy", "PolicyDocument": policy}
    name = next(iter(policy)) if isinstance(policy, dict) else policy
    raise TemplateError(
        f"{state_machine}: the SAM policy template {name!r} grants what its definition says, which the embedded stack "
        'cannot see; write its statements out ({"Statement": [...]}) so both evaluate the same policy'
    )


def _statements(source: str, document: Mapping[str, Any]) -> tuple[Statement, ...]:
    statements = document.get("Statement", [])
    listed = [statements] if isinstance(statements, dict) else statements
    return tuple(Statement(f"{source}/{s.get('Sid') or i}", s) for i, s in enumerate(listed))


def _policy_targets(kind: str, props: Mapping[str, Any], arn_of: Callable[[str], str], template: Template, resolve: Resolve) -> list[str]:
    if kind == "AWS::S3::BucketPolicy":
        return [f"arn:aws:s3:::{props['Bucket']}"]
    if kind == "AWS::SNS::TopicPolicy":
        return list(props["Topics"])
    return [_queue_arn(url) for url in props["Queues"]]


def _queue_arn(url: str) -> str:
    # http://host/ACCOUNT/NAME -> arn:aws:sqs:REGION:ACCOUNT:NAME (the embedded stack's one region)
    from mlrelay.local.state_file import REGION

    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def _add_key(
    model: IamModel, template: Template, resolve: Resolve, key: str, root: Path, stage: str, parameters: Mapping[str, str]
) -> None:
    """The key's policy (infra/kms-key-policy.json, as docs/security.md asks users to set it) and what it encrypts."""
    from mlrelay.local.state_file import REGION

    text = (root / KEY_POLICY_FILE).read_text()
    for placeholder, value in {
        "ACCOUNT": model.account,
        "REGION": REGION,
        "STAGE": stage,
        "REDSHIFT_COPY_ROLE_ARN": parameters.get("RedshiftCopyRoleArn", ""),
    }.items():
        text = text.replace(placeholder, value)
    model.key_policies[key] = _statements(f"key policy of {key}", json.loads(text))
    for spec in template.declared().values():
        props = resolve(spec.get("Properties", {}))
        encrypted_by = _customer_key(spec["Type"], props)
        if encrypted_by == key:
            model.encryption_keys[_encrypted_arn(spec["Type"], props, model.account)] = key


def _customer_key(kind: str, props: Mapping[str, Any]) -> str | None:
    if kind == "AWS::S3::Bucket":
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        return next((r["ServerSideEncryptionByDefault"].get("KMSMasterKeyID") for r in rules), None)
    if kind == "AWS::DynamoDB::Table":
        return props.get("SSESpecification", {}).get("KMSMasterKeyId")
    if kind in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
        return props.get("KmsMasterKeyId")
    return None


def _encrypted_arn(kind: str, props: Mapping[str, Any], account: str) -> str:
    from mlrelay.arns import NAME_PROPERTIES, arn_of
    from mlrelay.local.state_file import REGION

    return str(arn_of(kind, props[NAME_PROPERTIES[kind]], account=account, region=REGION))
