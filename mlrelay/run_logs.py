"""A run's log lines: every function's CloudWatch Logs group, filtered by the run id (FilterLogEvents)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class LogLine:
    at: datetime
    function: str
    level: str
    message: str


def run_log_lines(logs: Any, function_names: list[str], run_id: str, since_hours: float = 72) -> list[LogLine]:
    """Lines that mention `run_id`, from /aws/lambda/<function> for each function, oldest first."""
    start = int((time.time() - since_hours * 3600) * 1000)
    lines = []
    for function in function_names:
        try:
            # A quoted term matches the id as it is (ids have hyphens, which the pattern syntax would split on).
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{function}", filterPattern=f'"{run_id}"', startTime=start,
            )
            for page in pages:
                lines.extend(_line(function, event) for event in page["events"])
        except logs.exceptions.ResourceNotFoundException:
            continue  # a function that has not logged yet has no group
    return sorted(lines, key=lambda line: line.at)


def _line(function: str, event: dict[str, Any]) -> LogLine:
    at = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    try:
        record = json.loads(event["message"])
    except ValueError:
        return LogLine(at, function, "", event["message"].strip())
    return LogLine(at, function, str(record.get("level", "")), str(record.get("message", "")))
