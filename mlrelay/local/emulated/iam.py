"""IAM: every request moto serves is authorized for the principal that signed it, as AWS would.

moto's own check (`INITIAL_NO_AUTH_ACTION_COUNT`) compares most actions with
"*" and ignores conditions; this patch replaces it with mlrelay.local.iam,
always on. Who signs what, as on AWS:

- a Lambda function, with its role's session: the runtime opens it per
  invocation (`acting_as`), and every boto3 client, shared or not, signs with
  the session of the invocation it runs in (threads it starts included);
- a state machine's service integrations, with the state machine's role
  (moto signs them with a fixed key);
- a pipeline job, with the SageMaker execution role;
- anyone else (the CLI, the tests, the stack's own set-up): the operator's
  credentials from the environment, allowed.

A denied request gets the service's own error code and AWS's message.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock
from urllib.parse import unquote

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import Credentials, ReadOnlyCredentials
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.s3.exceptions import S3ClientError

from mlrelay.local.iam.authorizer import AccessDeniedError, Authorizer
from mlrelay.local.iam.principals import RuntimeRole, Session
from mlrelay.local.iam.resources import Call

_acting: contextvars.ContextVar[Session | None] = contextvars.ContextVar("mlrelay_iam_session", default=None)
_request_session = threading.local()  # the session of the request moto is serving on this thread
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_LAMBDA_FUNCTION = re.compile(r"/functions/([^/]+)")
_INVOCATION = re.compile(r"^/endpoints/([^/]+)/(?:async-)?invocations$")  # sagemaker-runtime's InvokeEndpoint(Async)


@contextmanager
def acting_as(session: Session | None) -> Iterator[None]:
    """Sign every AWS call made in this context (and threads it starts) with `session`'s keys."""
    token = _acting.set(session)
    try:
        yield
    finally:
        _acting.reset(token)


def serving_session() -> Session | None:
    """The principal of the request being served on this thread (services that record an owner use it)."""
    return getattr(_request_session, "value", None)


class _ActingCredentials(Credentials):
    """The credentials of whatever session the calling context acts as; the operator's otherwise."""

    def __init__(self, operator: Credentials):
        self._operator = operator

    def _current(self) -> ReadOnlyCredentials:
        session = _acting.get()
        if session is not None:
            return ReadOnlyCredentials(session.access_key, session.secret_key, "mlrelay-local-session")
        return self._operator.get_frozen_credentials()

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._current()

    @property
    def access_key(self) -> str:
        return self._current().access_key

    @property
    def secret_key(self) -> str:
        return self._current().secret_key

    @property
    def token(self) -> str | None:
        return self._current().token


@contextmanager
def patched(authorizer: Authorizer, state_machine_session: Callable[[str], Session]) -> Iterator[None]:
    """`state_machine_session(role_arn)`: the session Step Functions opens with a state machine's role."""
    original_credentials = botocore.session.Session.get_credentials
    original_submit = ThreadPoolExecutor.submit

    def get_credentials(self: botocore.session.Session) -> Credentials | None:
        operator = original_credentials(self)
        # none at all: botocore's own NoCredentialsError, as a CLI without credentials gets it on AWS
        return _ActingCredentials(operator) if operator is not None else None

    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        # A pool's thread runs the task in the context of whoever submitted it, as one process per function would.
        return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        _authorize(self, authorizer, resource)

    with ExitStack() as stack:
        stack.callback(statement_owners.clear)  # this stack's statements: a next stack starts with none
        stack.enter_context(mock.patch.object(botocore.session.Session, "get_credentials", get_credentials))
        stack.enter_context(mock.patch.object(ThreadPoolExecutor, "submit", submit))
        stack.enter_context(mock.patch.object(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize))
        for module in _step_functions_client_modules():
            stack.enter_context(mock.patch.object(module, "boto_client_for", _state_machine_clients(state_machine_session)))
        yield


def _step_functions_client_modules() -> list[Any]:
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory

    assert state_task_service_factory  # imported so that every service task module exists
    return [
        module for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser.") and hasattr(module, "boto_client_for")
        and name != "moto.stepfunctions.parser.asl.utils.boto_client"
    ]


def _state_machine_clients(state_machine_session: Callable[[str], Session]) -> Callable[..., Any]:
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if state_credentials is None:
            raise RuntimeError(f"moto's Step Functions called {service} without the state machine's role")
        session = state_machine_session(state_credentials.role_arn)
        return boto3.client(
            service, region_name=region, endpoint_url=f"http://localhost:{moto_server_port()}",
            aws_access_key_id=session.access_key, aws_secret_access_key=session.secret_key,
            aws_session_token="mlrelay-local-session",
            config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                          connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS, read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS),
        )

    return boto_client_for


def _authorize(response: Any, authorizer: Authorizer, resource: str) -> None:
    header = response.headers.get("Authorization") or ""
    match = _CREDENTIAL.search(header) or _CREDENTIAL.search("Credential=" + _query(response, "X-Amz-Credential") + "/")
    if match is None:
        _request_session.value = None
        raise _denied(response, "s3" if resource.startswith("arn:aws:s3") else "", AccessDeniedError(
            "anonymous", response._get_action(), resource, "the request is not signed"))
    access_key, _, signing_name = match.groups()
    operation = response._get_action()
    params = _s3_params(response, resource) if signing_name == "s3" else _params(response, signing_name)
    try:
        session = authorizer.authorize(access_key, signing_name, operation, params)
        _request_session.value = session
        if session is not None and signing_name == "s3":
            _missing_object_without_list(response, authorizer, session, params)
    except AccessDeniedError as err:
        raise _denied(response, signing_name, err) from err


def _query(response: Any, name: str) -> str:
    value = response.querystring.get(name) if hasattr(response, "querystring") else None
    return (value[0] if isinstance(value, list) else value) or ""


def _params(response: Any, signing_name: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, values in (getattr(response, "querystring", {}) or {}).items():
        params[name] = values[0] if isinstance(values, list) and values else values
    invocation = _INVOCATION.match(unquote(response.path)) if signing_name == "sagemaker" else None
    if invocation:  # sagemaker-runtime: the body is the model's payload, the endpoint is named in the path
        return {**params, "EndpointName": invocation.group(1)}
    body: Any = response.body
    if isinstance(body, (str, bytes)) and body:
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    if isinstance(body, dict):
        params.update(body)
    parsed = getattr(response, "params", None)  # moto's own parse of the request, where it has one
    if isinstance(parsed, dict):
        params.update({k: v for k, v in parsed.items() if k not in params})
    if signing_name == "lambda":
        found = _LAMBDA_FUNCTION.search(unquote(response.path))
        if found:
            params["FunctionName"] = found.group(1)
    return params


def _s3_params(response: Any, resource: str) -> dict[str, Any]:
    path = resource.removeprefix("arn:aws:s3:::")
    bucket, _, key = path.partition("/")
    params: dict[str, Any] = {"Bucket": "" if bucket == "*" else bucket, "Key": key}
    for name, query in (("Prefix", "prefix"), ("Delimiter", "delimiter"), ("VersionId", "versionId")):
        value = _query(response, query)
        if value:
            params[name] = value
    if response.headers.get("x-amz-copy-source"):
        params["CopySource"] = response.headers["x-amz-copy-source"]
    if response.headers.get("x-amz-server-side-encryption"):
        params["ServerSideEncryption"] = response.headers["x-amz-server-side-encryption"]
    return params


def _missing_object_without_list(response: Any, authorizer: Authorizer, session: Session, params: dict[str, Any]) -> None:
    """S3 answers 403, not 404, for a missing object when the caller may not list the bucket."""
    if response._get_action() not in ("GetObject", "HeadObject") or not params.get("Key") or params.get("VersionId"):
        return  # a request for one version gets that version's answer
    bucket = response.backend.buckets.get(params["Bucket"])
    found = bucket.keys.get(params["Key"]) if bucket is not None else None
    if bucket is None or (found is not None and type(found).__name__ != "FakeDeleteMarker"):  # a deleted key is missing
        return
    listing = Call("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}", {"s3:prefix": params["Key"]})
    if not authorizer.allows(session, listing):
        error = AccessDeniedError(session.arn, "s3:ListBucket", listing.resource,
                                  "no identity-based policy allows the s3:ListBucket action (S3 answers 403 for a missing key then)")
        authorizer.census.deny(error, session.role.name)
        raise error


def _denied(response: Any, signing_name: str, error: AccessDeniedError) -> Exception:
    """The error the service itself returns: S3 and the query-protocol services in XML, the others in JSON."""
    if signing_name == "s3":
        return _S3Denied(str(error))
    if signing_name == "sns":
        return _XmlDenied("AuthorizationError", str(error))
    content_type = str(response.headers.get("Content-Type", ""))
    if "json" in content_type or signing_name in ("lambda", "sagemaker"):  # JSON protocols whatever the payload's type
        return _JsonDenied("AccessDeniedException", str(error))
    return _XmlDenied("AccessDenied", str(error))


class _JsonDenied(JsonRESTError):
    code = 400


class _XmlDenied(_RESTError):
    code = 403


class _S3Denied(S3ClientError):
    code = "AccessDenied"

    def __init__(self, message: str):
        super().__init__("AccessDenied", message)


def credentials_environment(session: Session, endpoint: str, region: str) -> dict[str, str]:
    """What a job's container gets: its role's credentials (SageMaker serves them from its metadata endpoint)."""
    return {
        "AWS_ACCESS_KEY_ID": session.access_key, "AWS_SECRET_ACCESS_KEY": session.secret_key,
        "AWS_SESSION_TOKEN": "mlrelay-local-session", "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
    }


def authorize_in_process(authorizer: Authorizer | None, call: Call, operation: str = "GetObject") -> None:
    """Check a call the stack makes without a request (reads from moto's store, a job's image pull, logs and
    metrics) for the acting session; a denial fails the job as SageMaker reports it."""
    session = _acting.get()
    if authorizer is None or session is None:
        return
    from mlrelay.local.sagemaker_jobs import JobFailedError

    try:
        authorizer.check(session, call)
    except AccessDeniedError as err:
        raise JobFailedError(f"ClientError: An error occurred (AccessDenied) when calling the {operation} operation: {err}") from err


def account_lookups(account: str, region: str) -> Any:
    """Names the request does not spell out, from moto's stores: secrets by name, keys by alias, statement owners."""
    from mlrelay.local.iam.resources import Lookups

    def secret_arn(name: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        secrets = secretsmanager_backends[account][region].secrets
        found = secrets.get(name) if hasattr(secrets, "get") else None
        return getattr(found, "arn", None)

    def key_arn(key_id: str) -> str | None:
        if key_id.startswith("arn:"):
            return key_id if ":key/" in key_id else None
        return f"arn:aws:kms:{region}:{account}:key/{key_id}" if not key_id.startswith("alias/") else None

    def role_path(name: str) -> str | None:
        found = _moto_role(account, lambda role: role.name == name)
        return found.path if found is not None else None

    def role_tags(name: str) -> dict[str, str]:
        found = _moto_role(account, lambda role: role.name == name)
        return {tag["Key"]: tag["Value"] for tag in found.tags or []} if found is not None else {}

    return Lookups(secret_arn=secret_arn, key_arn=key_arn, statement_owner=statement_owners.get, role_path=role_path,
                   role_tags=role_tags)


def runtime_roles(account: str) -> Callable[[str], RuntimeRole | None]:
    """The roles the stack's code made in moto's IAM at run time, by ARN, as mlrelay/local/iam needs them."""

    def lookup(arn: str) -> RuntimeRole | None:
        role = _moto_role(account, lambda held: held.arn == arn)
        if role is None:
            return None
        document = role.assume_role_policy_document
        return RuntimeRole(
            role.name, role.path, json.loads(unquote(document)) if isinstance(document, str) else dict(document),
            tuple(policy.arn for policy in role.managed_policies.values()), role.permissions_boundary_arn,
            {tag["Key"]: tag["Value"] for tag in role.tags or []},
            {name: json.loads(unquote(text)) if isinstance(text, str) else text for name, text in role.policies.items()},
        )

    return lookup


def _moto_role(account: str, wanted: Callable[[Any], bool]) -> Any:
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    return next((role for role in list(backend.roles.values()) if wanted(role)), None)


statement_owners: dict[str, str] = {}  # Data API statement id -> the aws:userid that submitted it
