"""A local invocation past its function's timeout fails as Lambda's does, and its handler is stopped."""

import contextvars
import json
import threading
import time
from contextlib import contextmanager

import pytest

from mlrelay.local.lambda_runtime import LocalFunction, LocalLambdaRuntime, SandboxTimedOutError

ACTING = contextvars.ContextVar("acting", default="operator")


def function(handler, timeout_seconds=1):
    return LocalFunction("mlrelay-dev-slow", handler, timeout_seconds, 128, "arn:aws:lambda:us-east-1:123456789012:function:slow")


def test_a_handler_past_its_timeout_fails_with_lambdas_error_and_is_stopped():
    reached = []

    def loops(event, context):
        deadline = time.monotonic() + 5
        try:
            while time.monotonic() < deadline:
                time.sleep(0.01)
            reached.append("the end")
        except Exception:  # a handler's own error handling does not keep it alive
            reached.append("caught")
        return {"ok": True}

    runtime = LocalLambdaRuntime()
    runtime.register(function(loops))
    started = time.monotonic()

    with pytest.raises(SandboxTimedOutError, match=r"^Task timed out after 1\.00 seconds$") as raised:
        runtime.invoke("mlrelay-dev-slow", {}, "RequestResponse")

    assert 1 <= time.monotonic() - started < 2
    assert raised.value.error_type == "Sandbox.Timedout"
    deadline = time.monotonic() + 2  # well before the loop's own end, 5 s after it began
    while any(t.name == "lambda-mlrelay-dev-slow" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "lambda-mlrelay-dev-slow" for t in threading.enumerate())  # stopped, not run to its end
    assert reached == []
    (invocation,) = runtime.invocations
    assert not invocation.succeeded and invocation.error == "SandboxTimedOutError: Task timed out after 1.00 seconds"


def test_within_its_timeout_a_handler_answers_with_the_callers_context_and_its_errors_reach_the_caller():
    @contextmanager
    def acting_as(fn):
        token = ACTING.set(fn.name)
        try:
            yield
        finally:
            ACTING.reset(token)

    def answers(event, context):
        if event.get("fail"):
            raise ValueError("bad input")
        return {"principal": ACTING.get(), "remaining_ms": context.get_remaining_time_in_millis()}

    runtime = LocalLambdaRuntime(acting_as=acting_as)
    runtime.register(function(answers, timeout_seconds=3))

    answer = json.loads(runtime.invoke("mlrelay-dev-slow", {}, "RequestResponse"))
    with pytest.raises(ValueError, match="bad input"):
        runtime.invoke("mlrelay-dev-slow", {"fail": True}, "RequestResponse")

    assert answer["principal"] == "mlrelay-dev-slow" and 2000 < answer["remaining_ms"] <= 3000
