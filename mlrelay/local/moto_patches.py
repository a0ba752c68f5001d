"""Every change mlrelay makes to moto's behaviour, in one place.

moto 5.2.5 (pinned in requirements-dev.txt) lacks three things the local
stack needs; each patch below makes moto act as AWS does, nothing more:

1. Lambda ``Invoke`` runs code only in Docker. We route invocations of the
   functions we registered to the Chalice app's handlers, in process.
2. EventBridge rules cannot target Lambda (``Rule.send_to_targets`` raises
   NotImplementedError). We deliver to Lambda targets as an asynchronous
   invocation, as EventBridge does.
3. S3's EventBridge events carry ``time`` as a Unix float and the object's
   ``eTag`` in camel case; AWS sends an ISO-8601 string and ``etag``.

tests/unit/test_moto_patches.py pins the moto internals these rely on, so a
moto upgrade that moves them fails loudly there, not somewhere obscure.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule
from moto.utilities.arns import parse_arn

logger = logging.getLogger(__name__)

# Invocation type header values used by the Lambda Invoke API.
ASYNC_INVOCATION = "Event"

# (function name, event, invocation type) -> response payload bytes
InvokeRouter = Callable[[str, Any, str], bytes | None]

_router: InvokeRouter | None = None
_installed = False
_targets_lock = threading.Lock()

_original_lambda_invoke = LambdaFunction.invoke
_original_send_to_targets = Rule.send_to_targets


def install(router: InvokeRouter) -> None:
    """Route Lambda invocations to ``router`` (idempotent; last router wins)."""
    global _router, _installed
    _router = router
    if _installed:
        return
    LambdaFunction.invoke = _routed_lambda_invoke  # type: ignore[method-assign]
    Rule.send_to_targets = _send_to_targets_with_lambda  # type: ignore[method-assign]
    _installed = True


def installed_router() -> InvokeRouter | None:
    return _router


def uninstall() -> None:
    global _router, _installed
    LambdaFunction.invoke = _original_lambda_invoke  # type: ignore[method-assign]
    Rule.send_to_targets = _original_send_to_targets  # type: ignore[method-assign]
    _router = None
    _installed = False


def _header(headers: Any, name: str, default: str) -> str:
    # moto hands us werkzeug headers (case-insensitive) or a plain dict.
    for candidate in (name, name.lower()):
        value = headers.get(candidate) if headers else None
        if value:
            return str(value)
    return default


def _routed_lambda_invoke(
    self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
) -> bytes | str:
    if _router is None:
        return _original_lambda_invoke(self, body, request_headers, response_headers)
    event = json.loads(body) if body else {}
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type", "RequestResponse")
    try:
        payload = _router(self.function_name, event, invocation_type)
    except Exception as err:  # noqa: BLE001 - reported as Lambda reports it
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
    return payload if payload is not None else b""


def _send_to_targets_with_lambda(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    lambda_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
    if lambda_targets and _router is not None and self.event_pattern.matches_event(original_event):
        event = _as_aws_sends_it(original_event)
        for target in lambda_targets:
            function_name = parse_arn(target["Arn"]).resource_id.split(":")[0]
            try:
                _router(function_name, event, ASYNC_INVOCATION)
            except Exception:  # moto swallows errors here; say what was lost
                logger.exception("EventBridge could not deliver to %s", function_name)
    if len(lambda_targets) == len(self.targets):
        return
    with _targets_lock:
        all_targets = self.targets
        self.targets = [t for t in all_targets if t not in lambda_targets]
        try:
            _original_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = all_targets


def _as_aws_sends_it(event: dict[str, Any]) -> dict[str, Any]:
    event = dict(event)
    if isinstance(event.get("time"), (int, float)):
        moment = datetime.fromtimestamp(event["time"], tz=timezone.utc)
        event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    s3_object = event.get("detail", {}).get("object") if event.get("source") == "aws.s3" else None
    if isinstance(s3_object, dict) and "eTag" in s3_object:
        event["detail"] = {**event["detail"], "object": {**s3_object}}
        event["detail"]["object"]["etag"] = event["detail"]["object"].pop("eTag")
    return event
