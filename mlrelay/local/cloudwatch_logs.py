"""The functions' log lines in the emulator's CloudWatch Logs, where Lambda puts them on AWS.

Each function runs in this process, so its Powertools lines go through one logger, whose keys (its
`function_name` too) the invocation that started last has set. A line goes to the log group of the invocation
running where it was written (the runtime's CURRENT_FUNCTION), /aws/lambda/<function>: `mlrelay runs logs` then
reads them with FilterLogEvents on the local stack as on a deployed one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mlrelay.local.lambda_runtime import CURRENT_FUNCTION

STREAM = "embedded-stack"


class CloudWatchLogsHandler(logging.Handler):
    def __init__(
        self, logs_client: Callable[[], Any], formatter: logging.Formatter | None, may_write: Callable[[str, str], bool],
    ):
        super().__init__()
        self._logs_client = logs_client
        self._may_write = may_write  # (function, group): whether the function's role lets Lambda write its logs
        self._client: Any = None
        self._groups: set[str] = set()
        self._lock = threading.Lock()
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            # the invocation running in this context owns the line; a line's own function_name may be another's
            function = CURRENT_FUNCTION.get() or (json.loads(line).get("function_name") if line.startswith("{") else None)
            if function and self._may_write(function, f"/aws/lambda/{function}"):
                self._put(f"/aws/lambda/{function}", line, int(record.created * 1000))
        except Exception:  # a log line must never fail the function that wrote it
            self.handleError(record)

    def _put(self, group: str, line: str, timestamp: int) -> None:
        with self._lock:
            if self._client is None:
                self._client = self._logs_client()
            if group not in self._groups:
                ensure_stream(self._client, group, STREAM)
                self._groups.add(group)
            self._client.put_log_events(logGroupName=group, logStreamName=STREAM,
                                        logEvents=[{"timestamp": timestamp or int(time.time() * 1000), "message": line}])


@contextmanager
def shipped(
    logger: logging.Logger, logs_client: Callable[[], Any], may_write: Callable[[str, str], bool] = lambda function, group: True,
) -> Iterator[None]:
    """While the stack runs, the functions' lines also go to CloudWatch Logs, formatted as they are printed.

    Lambda's service writes them with the function's role: `may_write` says whether that role allows it (a line
    the role may not write is lost, as on AWS)."""
    printing = next((h for h in logger.handlers if isinstance(h, logging.StreamHandler)), None)
    handler = CloudWatchLogsHandler(logs_client, printing.formatter if printing else None, may_write)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def ensure_stream(client: Any, group: str, stream: str) -> None:
    """The log group and stream, made if missing (as the service that writes them makes them)."""
    for create in (lambda: client.create_log_group(logGroupName=group),
                   lambda: client.create_log_stream(logGroupName=group, logStreamName=stream)):
        try:
            create()
        except client.exceptions.ResourceAlreadyExistsException:
            pass


MAX_BATCH_EVENTS, MAX_BATCH_BYTES = 10_000, 1_000_000  # PutLogEvents' limits (each event counts 26 bytes more)


def put_lines(client: Any, group: str, stream: str, lines: list[str]) -> None:
    """A job's output as the stream SageMaker writes: the group and stream made if missing, the lines in batches."""
    ensure_stream(client, group, stream)
    now = int(time.time() * 1000)
    batch: list[dict[str, Any]] = []
    size = 0
    for line in (line or " " for line in lines):  # an empty message is refused
        if len(batch) == MAX_BATCH_EVENTS or size + len(line.encode()) + 26 > MAX_BATCH_BYTES:
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
            batch, size = [], 0
        batch.append({"timestamp": now, "message": line})
        size += len(line.encode()) + 26
    if batch:
        client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
