"""Lambda: `Invoke` runs the app's handlers in process (moto runs function code only in Docker)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaFunction

ASYNC_INVOCATION = "Event"  # the X-Amz-Invocation-Type of an asynchronous invocation
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
            return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
        return payload if payload is not None else b""

    with mock.patch.object(LambdaFunction, "invoke", invoke):
        yield


def header(headers: Any, name: str, default: str) -> str:
    # moto hands us werkzeug headers (case-insensitive) or a plain dict.
    for candidate in (name, name.lower()):
        value = headers.get(candidate) if headers else None
        if value:
            return str(value)
    return default
