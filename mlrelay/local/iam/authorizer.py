"""Allow or deny one request, as AWS would, and keep the census of what each principal used.

Beyond the request's own action, AWS authorizes what the service does on the
caller's behalf with the caller's permissions: the Redshift Data API reads the
secret named by SecretArn, and S3, DynamoDB, SQS and SNS use a customer KMS key
through the caller (kms:ViaService says which service asked).
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlrelay.local.iam.policies import ContextValue, Decision, Request, evaluate
from mlrelay.local.iam.principals import IamModel, Role, Session, TrustError
from mlrelay.local.iam.resources import Call, Lookups, calls, request_tags, tag_context

# What a customer KMS key is used for by each service, for the caller, per action (AWS's "how X uses KMS" pages).
KMS_USE = {
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
}
_DYNAMODB_ITEM_ACTIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}


class AccessDeniedError(PermissionError):
    def __init__(self, principal: str, action: str, resource: str, because: str):
        self.principal, self.action, self.resource = principal, action, resource
        on = f" on resource: {resource}" if resource != "*" else ""
        super().__init__(f"User: {principal} is not authorized to perform: {action}{on} because {because}")


@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str
    message: str
    test: str


class Census:
    """Per role: every (action, resource) allowed, every statement that allowed something, every denial."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.allowed: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.used_statements: dict[str, set[str]] = defaultdict(set)
        self.denials: list[Denial] = []
        self.current_test = ""  # set by the test suite: which test a call belongs to
        self.checked = 0  # denials the test suite has looked at
        self.tests_by_action: dict[str, set[str]] = defaultdict(set)  # "ROLE action" -> tests that used it

    def record(self, role: str, call: Call, allowed_by: tuple[str, ...]) -> None:
        with self._lock:
            self.allowed[role].add((call.action, call.resource))
            self.used_statements[role].update(allowed_by)
            if self.current_test:
                self.tests_by_action[f"{role} {call.action}"].add(self.current_test)

    def deny(self, error: AccessDeniedError, role: str) -> None:
        with self._lock:
            self.denials.append(Denial(role, error.action, error.resource, str(error), self.current_test))

    def denials_since(self, count: int) -> list[Denial]:
        with self._lock:
            return self.denials[count:]

    def write(self, path: Path, model: IamModel) -> None:
        """The census as JSON: calls per role and the statements no call used."""
        with self._lock:
            document = {
                role.name: {
                    "allowed": sorted(f"{action} {resource}" for action, resource in self.allowed.get(role.name, ())),
                    "used_statements": sorted(self.used_statements.get(role.name, ())),
                    "statements": [s.source for s in role.statements],
                    "tests_by_action": {
                        key.split(" ", 1)[1]: sorted(tests)
                        for key, tests in self.tests_by_action.items()
                        if key.startswith(role.name + " ")
                    },
                }
                for role in [*model.roles.values(), *model.policies_as_roles()]
            }
            document["denials"] = [d.__dict__ for d in self.denials]  # type: ignore[assignment]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1, sort_keys=True))


class Authorizer:
    def __init__(self, model: IamModel, operator_keys: set[str], lookups: Lookups, region: str):
        self.model = model
        self.operator_keys = operator_keys
        self.lookups = lookups
        self.region = region
        self.census = Census()

    def session(self, access_key: str) -> Session | None:
        return self.model.by_access_key(access_key)

    def authorize(self, access_key: str, signing_name: str, operation: str, params: Mapping[str, Any]) -> Session | None:
        """None for the operator (the CLI's and tests' own credentials: allowed); raises AccessDeniedError."""
        if access_key in self.operator_keys:
            return None
        session = self.session(access_key)
        if session is None:
            raise AccessDeniedError(
                f"access key {access_key}", f"{signing_name}:{operation}", "*", "the key belongs to no principal of the embedded stack"
            )
        for call in calls(signing_name, operation, params, self.region, self.model.account, self.lookups):
            self.check(session, call)
            for implied in self._implied(call, signing_name, operation, params):
                self.check(session, implied)
        return session

    def check(self, session: Session, call: Call) -> None:
        decision = self._decide(session, call)
        if decision.allowed:
            return
        error = AccessDeniedError(session.arn, call.action, call.resource, decision.denied_because)
        self.census.deny(error, session.role.name)
        raise error

    def service_may(self, service: str, source_arn: str, action: str, resource: str) -> bool:
        """Whether the resource's policy lets an AWS service act for `source_arn` (EventBridge invoking a function or
        sending to a queue): the aws:SourceArn the policy names must be the rule's."""
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": self.model.account}
        request = Request(service, service, self.model.account, action, resource, context)
        decision = evaluate(request, (), self.model.resource_policy(resource))
        if not decision.allowed:
            self.census.deny(AccessDeniedError(service, action, resource, "no resource-based policy allows it for " + source_arn), service)
        return decision.allowed

    def allows(self, session: Session, call: Call) -> bool:
        """Whether `call` would be allowed, without a denial on record (S3's 403-or-404 answer asks this; a statement
        that changes the answer is used, so an allowing one is recorded)."""
        return self._decide(session, call).allowed

    def _decide(self, session: Session, call: Call) -> Decision:
        """AWS's decision for the session's call; an allowed one goes into the census."""
        role = self._current(session)
        context: dict[str, ContextValue] = {
            "aws:PrincipalArn": role.arn,
            "aws:userid": session.userid,
            "aws:PrincipalAccount": role.account,
            "aws:SecureTransport": "true",  # the SDKs speak TLS to AWS; the emulator's plain HTTP is local only
            **{f"aws:PrincipalTag/{key}": value for key, value in role.tags.items()},
            **call.context,
        }
        request = Request(session.arn, role.arn, self.model.account, call.action, call.resource, context)
        key_policy = self.model.key_policies.get(call.resource) if call.action.startswith("kms:") else None
        resource_policy = () if call.action.startswith("kms:") else self.model.resource_policy(call.resource)
        decision = evaluate(request, role.statements, resource_policy, key_policy, role.boundary)
        if decision.allowed:
            self.census.record(role.census_name or role.name, call, decision.allowed_by)
        return decision

    def _current(self, session: Session) -> Role:
        """The session's role as IAM holds it now: a test, or the stack's code, may have changed its policies since the
        session opened; a role deleted since may do nothing."""
        try:
            return self.model.role(session.role.arn)
        except TrustError:
            return replace(session.role, statements=(), boundary=())

    def _implied(self, call: Call, signing_name: str, operation: str, params: Mapping[str, Any]) -> list[Call]:
        implied: list[Call] = []
        region, account = self.region, self.model.account
        if signing_name == "redshift-data" and operation in ("ExecuteStatement", "BatchExecuteStatement"):
            # the Data API authenticates to the database with the caller's permissions (its IAM page)
            if params.get("SecretArn"):
                implied += calls("secretsmanager", "GetSecretValue", {"SecretId": params["SecretArn"]}, region, account, self.lookups)
            elif params.get("WorkgroupName"):
                implied.append(
                    Call(
                        "redshift-serverless:GetCredentials",
                        f"arn:aws:redshift-serverless:{region}:{account}:workgroup/{params['WorkgroupName']}",
                    )
                )
            elif params.get("ClusterIdentifier") and params.get("DbUser"):
                cluster, database = params["ClusterIdentifier"], params.get("Database", "")
                prefix = f"arn:aws:redshift:{region}:{account}"
                implied += [
                    Call("redshift:GetClusterCredentials", f"{prefix}:dbuser:{cluster}/{params['DbUser']}"),
                    Call("redshift:GetClusterCredentials", f"{prefix}:dbname:{cluster}/{database}"),
                ]
        if signing_name == "iam" and operation == "CreateRole" and request_tags(params):
            # a role made with tags is tagged too (IAM's CreateRole page)
            implied.append(Call("iam:TagRole", call.resource, {k: v for k, v in call.context.items() if k.startswith("aws:")}))
        if signing_name == "sagemaker" and params.get("RoleArn") and operation in ("CreatePipeline", "UpdatePipeline"):
            implied.append(Call("iam:PassRole", str(params["RoleArn"]), {"iam:PassedToService": "sagemaker.amazonaws.com"}))
        if signing_name == "sagemaker" and operation.startswith("Create") and request_tags(params):
            # SageMaker tags what it makes with the caller's sagemaker:AddTags (a dependent action in its reference)
            implied.append(Call("sagemaker:AddTags", call.resource, tag_context(params)))
        if signing_name == "sagemaker" and operation == "CreateModel" and params.get("ExecutionRoleArn"):
            # SageMaker assumes the model's role to read its data and serve it: the caller passes it (CreateModel's page)
            implied.append(Call("iam:PassRole", str(params["ExecutionRoleArn"]), {"iam:PassedToService": "sagemaker.amazonaws.com"}))
        key = self.model.key_for(call.resource)
        if key:
            kms_actions = KMS_USE.get(call.action, ())
            if signing_name == "dynamodb" and operation in _DYNAMODB_ITEM_ACTIONS:
                kms_actions = ("kms:Decrypt",)
            via = {"kms:ViaService": f"{signing_name}.{self.region}.amazonaws.com", "kms:CallerAccount": self.model.account}
            implied += [Call(action, key, via) for action in kms_actions]
        return implied


_JOB_LOG_GROUPS = {"Training": "TrainingJobs", "Processing": "ProcessingJobs", "Transform": "TransformJobs"}
_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")


_CREATE_JOB = {"Training": ("CreateTrainingJob", "training-job"), "Processing": ("CreateProcessingJob", "processing-job"),
               "Transform": ("CreateTransformJob", "transform-job"), "Model": ("CreateModel", "model")}


def job_calls(kind: str, image_uri: str, job_name: str, region: str, account: str, role_arn: str = "") -> list[Call]:
    """What SageMaker does with a pipeline's role to run one step (the roles' documented needs): create the job,
    passing its role, pull the image from ECR, write the job's log stream, and, for training, publish its metrics."""
    found: list[Call] = []
    action, kind_of_arn = _CREATE_JOB.get(kind, ("", ""))
    if action:
        found.append(Call(f"sagemaker:{action}", f"arn:aws:sagemaker:{region}:{account}:{kind_of_arn}/{job_name}"))
    if role_arn and kind in ("Training", "Processing", "Model"):
        found.append(Call("iam:PassRole", role_arn, {"iam:PassedToService": "sagemaker.amazonaws.com"}))
    image = _IMAGE.match(image_uri or "")
    if image:
        registry, image_region, repository = image.groups()
        arn = f"arn:aws:ecr:{image_region}:{registry}:repository/{repository}"
        found += [Call("ecr:GetAuthorizationToken", "*"), Call("ecr:BatchGetImage", arn), Call("ecr:GetDownloadUrlForLayer", arn)]
    group = _JOB_LOG_GROUPS.get(kind)
    if group:
        group_arn = f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/{group}"
        found += [
            Call("logs:CreateLogStream", f"{group_arn}:log-stream:{job_name}/algo-1"),
            Call("logs:PutLogEvents", f"{group_arn}:log-stream:{job_name}/algo-1"),
            Call("logs:DescribeLogStreams", f"{group_arn}:*"),
        ]
    if kind == "Training":
        found.append(Call("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}))
    return found
