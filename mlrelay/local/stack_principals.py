"""Who acts as whom on the embedded stack, as AWS arranges it, and the authorizer that decides each call.

A function's code, its event source mapping's poller and its on-failure
destination act as its role; Lambda writes its logs with that role; a pipeline
job acts as its execution role (its code gets the role's keys); EventBridge
may deliver only where the target's policy allows the rule. mlrelay/local/iam
decides, mlrelay/local/emulated/iam.py puts it in front of moto.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import boto3

from mlrelay.local.emulated import iam
from mlrelay.local.iam.authorizer import AccessDeniedError, Authorizer, job_calls
from mlrelay.local.iam.principals import IamModel, Session
from mlrelay.local.iam.resources import Call
from mlrelay.local.iam.template_model import function_role_name
from mlrelay.local.lambda_runtime import LocalFunction
from mlrelay.local.sagemaker_runner import JobIdentity
from mlrelay.local.state_file import ACCOUNT_ID, REGION

LOG_STREAM = "embedded-stack"  # mlrelay/local/cloudwatch_logs.py's stream


class StackPrincipals:
    def __init__(
        self, stage: str, endpoint: str, model: IamModel, function_ids: dict[str, str],
        rebuild: Callable[[dict[str, str]], IamModel],
    ):
        """`function_ids`: logical id -> function name; `rebuild(parameters)`: the template's model with them."""
        self.stage, self.endpoint, self.model = stage, endpoint, model
        model.runtime_role = iam.runtime_roles(ACCOUNT_ID)  # the roles a model's first run makes (chalicelib/aws/model_roles.py)
        self.authorizer = Authorizer(model, {os.environ["AWS_ACCESS_KEY_ID"]}, iam.account_lookups(ACCOUNT_ID, REGION), REGION)
        self._function_ids = function_ids
        self._rebuild = rebuild

    def patched(self) -> AbstractContextManager[None]:
        """Every request authorized from here on; Step Functions' integrations act as their state machine's role."""
        return iam.patched(self.authorizer, lambda role_arn: self.model.session(role_arn, "states.amazonaws.com", "mlrelay-states"))

    def function_session(self, function_name: str) -> Session:
        """The session Lambda opens with the function's role (chalice names it <Function>Role)."""
        logical_id = next(spec for spec, name in self._function_ids.items() if name == function_name)
        role = f"arn:aws:iam::{ACCOUNT_ID}:role/{function_role_name(self.stage, logical_id)}"
        return self.model.session(role, "lambda.amazonaws.com", function_name)

    def acting_as_function(self, function: LocalFunction) -> AbstractContextManager[None]:
        return iam.acting_as(self.function_session(function.name))

    def client_as_function(self, service: str, function_name: str) -> Any:
        """A client that signs as the function's role whatever thread uses it (a poller's)."""
        session = self.function_session(function_name)
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.endpoint,
            aws_access_key_id=session.access_key, aws_secret_access_key=session.secret_key, aws_session_token="mlrelay-local-session",
        )

    def job_identity(self) -> JobIdentity:
        def session(role_arn: str) -> Session:
            return self.model.session(role_arn, "sagemaker.amazonaws.com", "SageMaker")

        return JobIdentity(
            acting_as=lambda role_arn: iam.acting_as(session(role_arn)),
            environment=lambda role_arn: iam.credentials_environment(session(role_arn), self.endpoint, REGION),
            may_read=lambda bucket, key: iam.authorize_in_process(self.authorizer, Call("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")),
            may_start=self._may_start,
            may_act=lambda role_arn, action, resource: self._may_act(session(role_arn), action, resource),
        )

    def _may_act(self, session: Session, action: str, resource: str) -> None:
        with iam.acting_as(session):
            iam.authorize_in_process(self.authorizer, Call(action, resource), action.split(":")[1])

    def _may_start(self, kind: str, image: str, job: str, role_arn: str) -> None:
        """Raises as SageMaker's API would when the pipeline's role may not create the job with `role_arn`."""
        for call in job_calls(kind, image, job, REGION, ACCOUNT_ID, role_arn):
            iam.authorize_in_process(self.authorizer, call, call.action.split(":")[1])

    def may_log(self, function_name: str, group: str) -> bool:
        """Whether the function's role lets Lambda create its log group and stream and put its lines."""
        if function_name not in self._function_ids.values():
            return True
        session = self.function_session(function_name)
        group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}"
        stream_arn = f"{group_arn}:log-stream:{LOG_STREAM}"
        try:
            for call in (Call("logs:CreateLogGroup", group_arn), Call("logs:CreateLogStream", stream_arn),
                         Call("logs:PutLogEvents", stream_arn)):
                self.authorizer.check(session, call)
        except AccessDeniedError:
            return False
        return True

    def eventbridge_may_deliver(self, rule_arn: str, target_arn: str, action: str) -> bool:
        # a function's ARN in a target may carry a qualifier; its policy is the function's
        base, found, rest = target_arn.partition(":function:")
        target = f"{base}{found}{rest.split(':')[0]}" if found else target_arn
        return self.authorizer.service_may("events.amazonaws.com", rule_arn, action, target)

    def with_parameters(self, **parameters: str) -> IamModel:
        """The IAM model the template gives with other parameter values (a KMS key, a Redshift secret)."""
        return self._rebuild(parameters)

    @contextmanager
    def replaced(self, model: IamModel, wait_idle: Callable[[], None]) -> Iterator[IamModel]:
        """Evaluate with `model`'s roles and policies, and only those, until the block ends (a test of a template
        without a fix)."""
        live = self.model
        parts: tuple[dict[str, Any], ...] = (live.roles, live.resource_policies, live.key_policies, live.encryption_keys,
                                             live.managed_policies)
        saved = [dict(part) for part in parts]
        # copies first: `model` may share its dictionaries with the live one (a dataclasses.replace of it)
        wanted = [dict(part) for part in (model.roles, model.resource_policies, model.key_policies, model.encryption_keys,
                                          model.managed_policies)]
        wait_idle()
        for part, changed in zip(parts, wanted, strict=True):
            part.clear()
            part.update(changed)
        try:
            yield live
        finally:
            wait_idle()
            for part, before in zip(parts, saved, strict=True):
                part.clear()
                part.update(before)
