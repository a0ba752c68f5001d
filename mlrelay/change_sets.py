"""A change set for `mlrelay deploy`: create it, wait for CloudFormation to compute it, and say what it changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mlrelay.stack_events import Pace, StackError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# How CloudFormation says a change set would change nothing (one wording per API generation).
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
SETTLED = {"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"}


class ChangeSetError(StackError):
    """CloudFormation refused the change set; the message is its reason."""


@dataclass(frozen=True)
class ChangeSet:
    id: str
    stack_id: str
    stack_name: str
    type: str  # CREATE or UPDATE
    changes: tuple[dict[str, Any], ...]


def create_change_set(cfn: Any, stack: str, template_url: str, parameters: list[dict[str, str]], kind: str, pace: Pace) -> ChangeSet | None:
    """The computed change set, or None (and no change set left) when it would change nothing."""
    name = f"{stack}-{hashlib.sha256(template_url.encode()).hexdigest()[:12]}"
    arguments = {"StackName": stack, "ChangeSetName": name, "TemplateURL": template_url, "Parameters": parameters,
                 "Capabilities": CAPABILITIES, "ChangeSetType": kind}
    try:
        created = cfn.create_change_set(**arguments)
    except ClientError as err:
        if err.response["Error"]["Code"] != "AlreadyExistsException":
            raise ChangeSetError(f"CloudFormation refused a change set for {stack}: {err}") from err
        # Left by an interrupted deploy of this same template (the name is the template's digest): replace it.
        cfn.delete_change_set(ChangeSetName=name, StackName=stack)
        created = cfn.create_change_set(**arguments)
    described = _settled(cfn, created["Id"], pace)
    if described["Status"] != "CREATE_COMPLETE":
        reason = described.get("StatusReason", "")
        cfn.delete_change_set(ChangeSetName=created["Id"])
        if any(words in reason for words in NO_CHANGES):
            return None
        raise ChangeSetError(f"CloudFormation refused the change set for {stack}: {reason or described['Status']}")
    changes = list(described.get("Changes", []))
    while described.get("NextToken"):
        described = cfn.describe_change_set(ChangeSetName=created["Id"], NextToken=described["NextToken"])
        changes += described.get("Changes", [])
    return ChangeSet(created["Id"], created["StackId"], stack, kind, tuple(changes))


def _settled(cfn: Any, change_set: str, pace: Pace) -> dict[str, Any]:
    for _ in range(pace.polls):
        described = cfn.describe_change_set(ChangeSetName=change_set)
        if described["Status"] in SETTLED:
            return described
        pace.sleep(pace.delay)
    raise ChangeSetError(f"change set {change_set} still not computed after {round(pace.delay * pace.polls / 60)} minutes: "
                         "look at it in the CloudFormation console")


def summary(change_set: ChangeSet) -> list[str]:
    """One line per resource change (replacements named), then the counts."""
    lines = [f"change set for stack {change_set.stack_name} ({change_set.type}):"]
    counts = {"Add": 0, "Modify": 0, "Remove": 0}
    replaced = 0
    for change in change_set.changes:
        resource = change.get("ResourceChange", {})
        action = resource.get("Action", "?")
        counts[action] = counts.get(action, 0) + 1
        line = f"  {action:<6} {resource.get('LogicalResourceId', '?')} ({resource.get('ResourceType', '?')})"
        if action == "Modify" and resource.get("Replacement") in ("True", "Conditional"):
            replaced += 1
            line += f" replacement: {resource['Replacement']}"
        lines.append(line)
    others = "".join(f", {n} {action}" for action, n in counts.items() if action not in ("Add", "Modify", "Remove"))
    lines.append(f"{len(change_set.changes)} changes: {counts['Add']} to add, {counts['Modify']} to modify "
                 f"({replaced} replaced or maybe replaced), {counts['Remove']} to remove{others}")
    return lines
