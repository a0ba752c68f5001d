"""What the demo checks, and how it waits for asynchronous work."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rich.console import Console

from mlrelay.runs import RunDetail, RunNotFoundError, show_run

T = TypeVar("T")


@dataclass
class Checks:
    console: Console
    failed: list[str] = field(default_factory=list)
    passed: int = 0

    def check(self, ok: bool, text: str) -> bool:
        if ok:
            self.passed += 1
            self.console.print(f"   [green]✓[/] {text}")
        else:
            self.failed.append(text)
            self.console.print(f"   [red]✗ {text}[/]")
        return ok


def wait_for(probe: Callable[[], T | None], timeout_seconds: float = 60, interval: float = 0.2) -> T | None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    return None


def finished_run(sfn: Any, machines: dict[str, str], run_id: str, timeout_seconds: float = 180) -> RunDetail | None:
    def probe() -> RunDetail | None:
        try:
            detail = show_run(sfn, machines, run_id)
        except RunNotFoundError:
            return None
        return detail if detail.summary.status != "RUNNING" else None

    return wait_for(probe, timeout_seconds=timeout_seconds, interval=0.3)


def read_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def titles_about(stack: Any, run_id: str) -> list[str]:
    """The titles of the Slack posts that mention a run, once the stack has delivered what it had queued."""
    stack.settle()
    return [m.message.get("text", "") for m in stack.slack.messages if run_id in json.dumps(m.message)]
