"""A Slack-compatible incoming-webhook receiver on loopback, for the local stack and its tests.

POST / takes a message as Slack would and answers "ok" (200), unless the
stack's fault plan says otherwise (`faults.fail_slack(429, retry_after=1)`,
or 503 until removed), as Slack does under rate limiting or outage.
GET /messages lists what was accepted, for `mlrelay local alerts`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlrelay.local.faults import FaultPlan


@dataclass
class Received:
    at: float
    message: dict[str, Any]


@dataclass
class SlackReceiver:
    faults: FaultPlan = field(default_factory=FaultPlan)
    messages: list[Received] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers = receiver._answer(body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"error")

            def do_GET(self) -> None:
                payload = json.dumps([{"at": m.at, "message": m.message} for m in receiver.messages]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-receiver", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/services/T000/B000/local"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, body: bytes) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.attempts += 1
            fault = self.faults.slack_response()
            if fault is None:
                self.messages.append(Received(time.time(), json.loads(body or b"{}")))
                return 200, {}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return fault.status, headers
