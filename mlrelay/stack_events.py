"""Reading a CloudFormation stack: its status, what its latest operation did, and following an operation to its end.

`mlrelay deploy` and `mlrelay destroy` share these. Events come newest first and paginated; the events of
one operation are those since the stack's own CREATE/UPDATE/DELETE_IN_PROGRESS event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# What CloudFormation writes on the resources it stops once another one failed: never the cause.
CANCELLED = ("Resource creation cancelled", "Resource update cancelled")
OPERATION_STARTS = {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"}


class StackError(RuntimeError):
    """A stack could not be read, or an operation on it did not finish; the message says what to do."""


@dataclass(frozen=True)
class Pace:
    """How often to poll CloudFormation and for how long (tests pass a sleep that returns at once)."""

    delay: float = 5.0
    polls: int = 2160  # three hours at 5 s: a first create with its SageMaker pipelines takes minutes, not hours
    sleep: Callable[[float], None] = field(default=time.sleep)


def describe(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The stack's description, or None when there is no stack of that name."""
    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise StackError(f"cannot read stack {stack}: {err}") from err


def _own(event: dict[str, Any]) -> bool:
    return event["LogicalResourceId"] == event["StackName"]


def operation_events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The events of the stack's latest operation, newest first (reads only as many pages as that takes)."""
    found: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        for event in page["StackEvents"]:
            found.append(event)
            if _own(event) and event["ResourceStatus"] in OPERATION_STARTS:
                return found
    return found


def earliest_failure(events: Iterable[dict[str, Any]]) -> str | None:
    """The first resource that failed, with its type and reason; cancellations only follow the cause."""
    failures = [
        e for e in events
        if e["ResourceStatus"].endswith("_FAILED") and not _own(e)
        and not e.get("ResourceStatusReason", "").startswith(CANCELLED)
    ]
    if not failures:
        return None
    first = failures[-1]
    return f"{_resource(first)} {first['ResourceStatus']}: {first.get('ResourceStatusReason', '')}"


def _resource(event: dict[str, Any]) -> str:
    return f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')})"


def kept_by_rollback(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources a rollback or deletion left in place (DeletionPolicy Retain): DELETE_SKIPPED, oldest first."""
    return [e for e in reversed(list(events)) if e["ResourceStatus"] == "DELETE_SKIPPED" and e.get("PhysicalResourceId")]


def why_it_failed(cfn: Any, stack: str) -> str:
    """The earliest resource failure of the latest operation, else the stack's own status reason."""
    cause = earliest_failure(operation_events(cfn, stack))
    if cause:
        return cause
    described = describe(cfn, stack) or {}
    reason = described.get("StackStatusReason")
    return f"{described.get('StackStatus', 'the stack')}: {reason}" if reason else "see the stack's events in the CloudFormation console"


def newest_event_id(cfn: Any, stack: str) -> str | None:
    """Where the next operation's events will start (follow() prints only what comes after)."""
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return events[0]["EventId"] if events else None


def follow(cfn: Any, stack_id: str, say: Callable[[str], None], pace: Pace, after: str | None) -> dict[str, Any]:
    """Poll until the stack is no longer *_IN_PROGRESS, printing each resource as it settles; the final description."""
    status = "?"
    for _ in range(pace.polls):
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        after = _say_new_events(cfn, stack_id, after, say)
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return stack
        pace.sleep(pace.delay)
    minutes = round(pace.delay * pace.polls / 60)
    raise StackError(f"stack {stack_id} is still {status} after {minutes} minutes: follow it in the CloudFormation console")


def _say_new_events(cfn: Any, stack_id: str, after: str | None, say: Callable[[str], None]) -> str | None:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]  # the first page: progress, not a record
    new = []
    for event in events:
        if event["EventId"] == after:
            break
        new.append(event)
    for event in reversed(new):
        if _own(event) or not event["ResourceStatus"].endswith("_IN_PROGRESS"):
            failed = event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason")
            say(f"  {event['ResourceStatus']:<20} {_resource(event)}{': ' + event['ResourceStatusReason'] if failed else ''}")
    return events[0]["EventId"] if events else after
