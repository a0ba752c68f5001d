"""Every write the emulator acknowledges is kept first: a WSGI layer around moto's server saves what a write changed
before its answer leaves, so a stack killed at any moment has every write a caller was told had happened."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
KEEP_ATTEMPTS = 5
logger = logging.getLogger(__name__)
_READS = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "Search", "Receive", "Validate", "Test", "Head", "Filter")


@dataclass(frozen=True)
class Write:
    """A request that may change what a service holds."""

    service: str  # as it signs: s3, dynamodb, states, sagemaker, sqs, logs
    action: str  # the operation (S3: the method)
    path: str
    body: dict[str, Any] = field(default_factory=dict)  # a JSON-protocol request's parameters


Keeper = Callable[[Write], None]


class DurableWrites:
    """The WSGI application moto's server runs, with `keepers` (service -> what saves a write to it) called after
    each successful write and before its answer is returned. `serialized` services handle one write at a time, so
    a copy of their state never catches another write half-done; the others' copies retry instead (a Step Functions
    or SageMaker write can wait on work that makes a write of its own service)."""

    def __init__(self, app: Any, keepers: dict[str, Keeper], serialized: Iterable[str]):
        self._app = app
        self._keepers = keepers
        self._locks = {service: threading.Lock() for service in serialized}
        self.stopping = threading.Event()  # set: writes are refused, so that none is acknowledged and then lost

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        service = _service(environ)
        keeper = self._keepers.get(service or "")
        if keeper is None or environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return self._app(environ, start_response)
        write = _write(service or "", environ)
        if write is None:
            return self._app(environ, start_response)
        if self.stopping.is_set():
            return _refused(write, start_response)
        lock = self._locks.get(write.service)
        with lock if lock is not None else _NO_LOCK:
            started: list[tuple[str, Any]] = []  # the answer's status line waits until the write is kept
            answer = self._app(environ, lambda status, headers, exc_info=None: started.append((status, headers)))
            succeeded = bool(started) and int(started[-1][0][:3]) < 400
            if succeeded:
                _keep(keeper, write)
            if succeeded and self.stopping.is_set():  # a stop began while moto handled it: not kept, so not taken
                getattr(answer, "close", lambda: None)()
                return _refused(write, start_response)
            for status, headers in started[-1:]:
                start_response(status, headers)
            return answer


def _keep(keeper: Keeper, write: Write) -> None:
    """A save that fails (another thread changed the state while it was read) is tried again; one that keeps failing
    is logged, and the service's next write saves what this one changed too."""
    for attempt in range(1, KEEP_ATTEMPTS + 1):
        try:
            keeper(write)
            return
        except Exception:
            if attempt == KEEP_ATTEMPTS:
                logger.exception("could not keep a %s %s on disk", write.service, write.action)
                return
            time.sleep(0.02 * attempt)


def _refused(write: Write, start_response: Callable[..., Any]) -> list[bytes]:
    message = "the embedded stack is stopping; its state is kept as it was, so this write was not taken"
    if write.service == "s3":
        body = f"<Error><Code>ServiceUnavailable</Code><Message>{message}</Message></Error>".encode()
        content_type = "application/xml"
    else:
        body, content_type = json.dumps({"__type": "ServiceUnavailable", "message": message}).encode(), "application/x-amz-json-1.0"
    start_response("503 Service Unavailable", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _service(environ: dict[str, Any]) -> str | None:
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "")) or _CREDENTIAL.search(
        "Credential=" + unquote(parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]))
    return found.group(1) if found else None


def _write(service: str, environ: dict[str, Any]) -> Write | None:
    path = environ.get("PATH_INFO", "")
    if service == "s3":
        return Write(service, environ["REQUEST_METHOD"], path)
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or -1)
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        action = target.rsplit(".", 1)[-1]
        try:
            parameters = json.loads(body or b"{}")
        except ValueError:
            parameters = {}
    else:  # the query protocol: Action=... in a form
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        action, parameters = form.get("Action", ""), form
    if action.startswith(_READS):
        return None
    return Write(service, action, path, parameters if isinstance(parameters, dict) else {})
