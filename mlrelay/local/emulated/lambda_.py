"""Lambda: `Invoke` runs the app's handlers in process (moto runs function code only in Docker); the account's
concurrency is limited as on AWS (1000, of which reservations must leave 100) and GetAccountSettings reports it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.awslambda import urls
from moto.awslambda.models import LambdaFunction
from moto.awslambda.responses import LambdaResponse

ASYNC_INVOCATION = "Event"  # the X-Amz-Invocation-Type of an asynchronous invocation
ACCOUNT_CONCURRENCY = 1000  # AWS's default quota per region (a new account may have less: `mlrelay doctor` reads it)
ACCOUNT_SETTINGS_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"
# (function name, event, invocation type) -> response payload bytes
InvokeRouter = Callable[[str, Any, str], bytes | None]


@contextmanager
def patched(router: InvokeRouter) -> Iterator[None]:
    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes | str:
        event = json.loads(body) if body else {}
        try:
            payload = router(self.function_name, event, header(request_headers, "X-Amz-Invocation-Type", "RequestResponse"))
        except Exception as err:
            response_headers["x-amz-function-error"] = "Unhandled"
            # a timeout's errorType is Lambda's own (Sandbox.Timedout), not an exception's name
            error_type = getattr(err, "error_type", type(err).__name__)
            return json.dumps({"errorType": error_type, "errorMessage": str(err)}).encode()
        return payload if payload is not None else b""

    with (
        mock.patch.object(LambdaFunction, "invoke", invoke),
        # moto enforces the 100 unreserved only when told the account's quota
        mock.patch.dict(os.environ, {"MOTO_LAMBDA_CONCURRENCY_QUOTA": str(ACCOUNT_CONCURRENCY)}),
        mock.patch.dict(urls.url_paths, {ACCOUNT_SETTINGS_PATH: LambdaResponse.dispatch}),
        mock.patch.object(LambdaResponse, "get_account_settings", _account_settings, create=True),
    ):
        yield


def _account_settings(self: LambdaResponse) -> tuple[int, dict[str, str], str]:
    functions = list(self.backend.list_functions())
    reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
    return 200, {}, json.dumps({
        "AccountLimit": {"ConcurrentExecutions": ACCOUNT_CONCURRENCY, "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY - reserved,
                         "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800},
        "AccountUsage": {"TotalCodeSize": sum(int(f.code_size) for f in functions), "FunctionCount": len(functions)},
    })


def header(headers: Any, name: str, default: str) -> str:
    # moto hands us werkzeug headers (case-insensitive) or a plain dict.
    for candidate in (name, name.lower()):
        value = headers.get(candidate) if headers else None
        if value:
            return str(value)
    return default
