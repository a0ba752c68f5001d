"""Runs the Chalice app's Lambda functions in this process, as Lambda would.

moto cannot run function code without Docker, so the patched moto routes
every Invoke here. Synchronous invocations run in the caller's request;
asynchronous ones (EventBridge targets, InvocationType=Event) run on a worker
pool and are retried twice on error, as Lambda retries async invocations.
An invocation past its function's timeout fails as Lambda's does
(`Sandbox.Timedout`, "Task timed out after N.00 seconds"), and the handler
is stopped at its next Python instruction.
"""

from __future__ import annotations

import contextvars
import ctypes
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice
# The function whose invocation runs in this context. All functions share one process and Powertools' one logger,
# whose keys (function_name among them) the last invocation to start has set: a log line's owner is this instead.
CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_function", default=None)


class FunctionNotRegisteredError(LookupError):
    pass


class SandboxTimedOutError(RuntimeError):
    """The function ran past its timeout; what its caller sees."""

    error_type = "Sandbox.Timedout"  # Lambda's errorType, which Step Functions' Retry and Catch match


class _Stopped(BaseException):
    """Raised inside a handler that ran past its timeout (BaseException: the handler's `except Exception` does not
    swallow it), as Lambda ends the sandbox."""


@dataclass(frozen=True)
class LocalFunction:
    name: str  # the deployed function name, e.g. mlrelay-dev-on_config_dropped
    handler: Callable[[Any, Any], Any]
    timeout_seconds: int
    memory_mb: int
    arn: str


@dataclass
class Invocation:
    function_name: str
    invocation_type: str
    attempt: int
    succeeded: bool
    error: str | None
    duration_ms: float
    event: Any = None  # what the function was given (tests read queue traffic from it)


class LocalLambdaContext:
    """The parts of the Lambda context object that Powertools and our code read."""

    def __init__(self, function: LocalFunction):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalLambdaRuntime:
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    max_workers: int = 8
    # function name -> sends an on-failure destination record (EventInvokeConfig)
    failure_destinations: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)
    # the credentials an invocation's AWS calls sign with: its function's role, as Lambda gives them
    acting_as: Callable[[LocalFunction], AbstractContextManager[None]] = lambda function: nullcontext()
    # Lambda writes every invocation's START and REPORT lines to the function's log group, with its role
    writes_invocation_log: Callable[[LocalFunction], object] = lambda function: None
    # a durable stack's record of accepted asynchronous invocations (mlrelay/local/emulated/state/journals.py)
    pending: Any = None

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="lambda-async")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def register(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    def invoke(self, function_name: str, event: Any, invocation_type: str) -> bytes | None:
        """The router the moto patch calls: returns the response payload."""
        function = self.functions.get(function_name)
        if function is None:
            raise FunctionNotRegisteredError(
                f"function {function_name!r} is not part of the app; known: {', '.join(sorted(self.functions))}"
            )
        if invocation_type == "Event":
            token = self.pending.accepted(function_name, event) if self.pending is not None else None
            future = self._pool.submit(self._run_async, function, event, token)
            with self._lock:
                self._pending.add(future)
            future.add_done_callback(self._forget)
            return b""
        result = self._run(function, event, invocation_type, attempt=1)
        return json.dumps(result, default=str).encode()

    def wait_idle(self, timeout_seconds: float = 60.0) -> None:
        """Block until every asynchronous invocation has finished (retries included)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(pending)} asynchronous Lambda invocations still running")
            # Invocations may start others, so wait in rounds until none is left.
            wait(pending, timeout=remaining)

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def shutdown(self, wait: bool = True) -> None:
        """`wait=False`: what still runs is left to a process about to exit (EmbeddedStack.stop with stop_jobs)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def count(self, function_name: str) -> int:
        return sum(1 for i in self.invocations if i.function_name == function_name)

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run_async(self, function: LocalFunction, event: Any, token: Any = None) -> None:
        try:
            self._run_with_retries(function, event)
        finally:
            if token is not None:
                self.pending.ended(token)

    def _run_with_retries(self, function: LocalFunction, event: Any) -> None:
        request_id = str(uuid.uuid4())
        for attempt in range(1, ASYNC_RETRIES + 2):
            try:
                self._run(function, event, "Event", attempt)
                return
            except Exception as err:
                last_error = err
                if attempt <= ASYNC_RETRIES:
                    time.sleep(0.2 * attempt)  # Lambda waits minutes; locally a pause will do
        logger.error("async invocation of %s failed after %d attempts", function.name, ASYNC_RETRIES + 1)
        send = self.failure_destinations.get(function.name)
        if send is not None:  # Lambda sends to the destination with the function's role
            with self.acting_as(function):
                send(destination_record(function, event, request_id, last_error, ASYNC_RETRIES + 1))

    def _run(self, function: LocalFunction, event: Any, invocation_type: str, attempt: int) -> Any:
        started = time.perf_counter()
        try:
            self.writes_invocation_log(function)
            running = CURRENT_FUNCTION.set(function.name)
            try:
                with self.acting_as(function):
                    result = _within_timeout(function, event)
            finally:
                CURRENT_FUNCTION.reset(running)
        except Exception as err:
            self._record(function, invocation_type, attempt, started, f"{type(err).__name__}: {err}", event)
            logger.warning("%s failed: %s: %s", function.name, type(err).__name__, err)
            raise
        self._record(function, invocation_type, attempt, started, None, event)
        return result

    def _record(self, function: LocalFunction, kind: str, attempt: int, started: float, error: str | None, event: Any) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self.invocations.append(Invocation(function.name, kind, attempt, error is None, error, duration_ms, event))

    def queue_messages(self, function_name: str, queue_arn: str) -> list[dict[str, Any]]:
        """Bodies of the SQS records `function_name` was given from `queue_arn`, each once (retries folded)."""
        seen: dict[str, dict[str, Any]] = {}
        with self._lock:
            invocations = [i for i in self.invocations if i.function_name == function_name and isinstance(i.event, dict)]
        for invocation in invocations:
            for record in invocation.event.get("Records", []):
                if record.get("eventSourceARN") == queue_arn:
                    seen.setdefault(record["messageId"], json.loads(record["body"]))
        return list(seen.values())



def _within_timeout(function: LocalFunction, event: Any) -> Any:
    """The handler's result, on a thread of its own that is stopped if it runs past the function's timeout."""
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # the acting principal and any other context the caller set
    ending = threading.Lock()  # the worker's end and the stop never cross: a finished thread's id may be reused

    def call() -> None:
        try:
            outcome["result"] = context.run(function.handler, event, LocalLambdaContext(function))
        except _Stopped:
            pass
        except BaseException as err:  # handed to the caller, as Lambda reports the function's error
            outcome["error"] = err
        finally:
            with ending:
                outcome["ended"] = True

    worker = threading.Thread(target=call, name=f"lambda-{function.name}", daemon=True)
    worker.start()
    worker.join(function.timeout_seconds)
    with ending:
        timed_out = "ended" not in outcome
        if timed_out:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident or 0), ctypes.py_object(_Stopped))
    if timed_out:
        raise SandboxTimedOutError(f"Task timed out after {function.timeout_seconds:.2f} seconds")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def destination_record(function: LocalFunction, event: Any, request_id: str, error: Exception, attempts: int) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination (its documented shape)."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "requestContext": {
            "requestId": request_id, "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)[:4000]},
    }
