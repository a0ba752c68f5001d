"""What is kept as a journal of writes rather than a copy: CloudWatch Logs' events (a copy of a stream after each
line would rewrite it whole each time) and the asynchronous Lambda invocations not yet finished (Lambda's queue)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from moto.logs.models import logs_backends

from mlrelay.local.durable.store import write_atomically
from mlrelay.local.state_file import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)
LOG_ACTIONS = ("CreateLogGroup", "CreateLogStream", "PutLogEvents")


class LogsJournal:
    """Each CreateLogGroup, CreateLogStream and PutLogEvents, a JSON line, appended before it is acknowledged."""

    def __init__(self, path: Path, frozen: threading.Event):
        self._path = path
        self._lock = threading.Lock()
        self._frozen = frozen

    def record(self, action: str, request: dict[str, Any]) -> None:
        if action not in LOG_ACTIONS or self._frozen.is_set():
            return
        line = json.dumps({"action": action, "request": request}) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as journal:
            journal.write(line)

    def replay(self) -> int:
        """The groups, streams and events back into moto's store, as they were written."""
        if not self._path.exists():
            return 0
        backend = logs_backends[ACCOUNT_ID][REGION]
        events = 0
        for line in self._path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the last line of a killed stack may be cut
            request = entry["request"]
            group, stream = request.get("logGroupName", ""), request.get("logStreamName", "")
            try:
                if group not in backend.groups:
                    backend.create_log_group(group, tags={})
                if stream and stream not in backend.groups[group].streams:
                    backend.create_log_stream(group, stream)
                if entry["action"] == "PutLogEvents":
                    backend.put_log_events(group, stream, request.get("logEvents", []))
                    events += len(request.get("logEvents", []))
            except Exception as err:  # a log line is not worth a stack that does not start
                logger.warning("a kept log write to %s/%s was not put back: %s", group, stream, err)
        return events


class PendingInvocations:
    """An asynchronous invocation is written down when Lambda accepts it and crossed out when it has ended (its
    retries and on-failure destination included); a restart invokes again those a stop cut short."""

    def __init__(self, folder: Path, frozen: threading.Event):
        self._folder = folder
        self._frozen = frozen  # a clean stop began: an invocation ending now was cut short by it, and is kept
        folder.mkdir(parents=True, exist_ok=True)

    def accepted(self, function_name: str, event: Any) -> Path | None:
        if self._frozen.is_set():
            return None  # accepted during a clean stop, from work the stop ends: not the state the stack keeps
        path = self._folder / f"{uuid.uuid4()}.json"
        write_atomically(path, json.dumps({"function": function_name, "event": event}, default=str).encode())
        return path

    def ended(self, token: Path | None) -> None:
        if token is not None and not self._frozen.is_set():
            token.unlink(missing_ok=True)

    def left_over(self) -> list[tuple[str, Any]]:
        """The invocations a stop cut short, oldest first; their records are gone once read."""
        found = []
        for path in sorted(self._folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                entry = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            found.append((entry["function"], entry["event"]))
            path.unlink(missing_ok=True)
        return found
