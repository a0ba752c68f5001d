"""The stage a console serves: its StackInfo and one client per service, shared by the request threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mlrelay.local.state_file import StackInfo


class Stage:
    """What `mlrelay.cli.connection.connect` returns, with clients made once: a boto3 client is safe to share
    between threads, the session that makes it is not."""

    def __init__(self, info: StackInfo, make_client: Callable[[str], Any], cli_flags: str = ""):
        self.info = info
        self.cli_flags = cli_flags  # " --stage dev" for a deployed stage: commands the pages print name it
        self._make_client = make_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make_client(service)
            return self._clients[service]

    def command(self, words: str) -> str:
        """A CLI command that does what a page does, for this stage: `mlrelay --stage dev runs resume RUN`."""
        return f"mlrelay{self.cli_flags} {words}"
