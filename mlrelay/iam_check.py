"""IAM statements in a packaged template that use wildcards, and the ones allowed to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Statements allowed a wildcard, and why. Anything else with "*" fails the build (tests) and the benchmark.
WILDCARD_EXCEPTIONS = {
    "RedshiftDataApiNeedsStar": "DescribeStatement and GetStatementResult support no resource-level permissions",
    "EcrAuthorizationTokenNeedsStar": "ecr:GetAuthorizationToken supports no resource-level permissions",
}


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource, statement) for every inline policy statement of roles and state machines."""
    for name, resource in template["Resources"].items():
        policies = resource.get("Properties", {}).get("Policies", [])
        for policy in policies if isinstance(policies, list) else []:
            document = policy.get("PolicyDocument", policy) if isinstance(policy, dict) else {}
            for statement in document.get("Statement", []):
                yield name, statement


def wildcards(statement: dict[str, Any]) -> list[str]:
    """A whole-service or any-action Action, or a Resource of "*"."""
    actions = statement.get("Action", [])
    found = [a for a in ([actions] if isinstance(actions, str) else actions) if a == "*" or a.endswith(":*")]
    resources = statement.get("Resource") or []
    if resources == "*" or (isinstance(resources, list) and "*" in resources):
        found.append('Resource "*"')
    return found


def unexcused(template: dict[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    return [
        (name, statement.get("Sid"), wildcards(statement))
        for name, statement in statements(template)
        if wildcards(statement) and statement.get("Sid") not in WILDCARD_EXCEPTIONS
    ]
