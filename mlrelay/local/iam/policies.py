"""IAM policy evaluation as AWS documents it, for one account: explicit Deny wins, no Allow means denied.

No well-kept Python library evaluates a request against identity and resource
policies with conditions (policy_sentry writes policies, parliament lints them,
moto's own evaluator ignores Resource and Condition), so this module does, for
the operators and keys the stack's policies can use. An operator it does not
know is refused with its name rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ContextValue = str | list[str]


class UnsupportedPolicyError(ValueError):
    """A policy uses a condition operator the embedded stack cannot evaluate."""


@dataclass(frozen=True)
class Statement:
    source: str  # where it comes from: "ROLE/POLICY/SID", "bucket policy of B/SID", ...
    document: Mapping[str, Any]

    @property
    def effect(self) -> str:
        return str(self.document.get("Effect", "Allow"))


@dataclass(frozen=True)
class Request:
    principal: str  # the caller's ARN: a role session, or a service principal ("events.amazonaws.com")
    role_arn: str  # the role behind a session (equals principal for a service)
    account: str
    action: str  # service:Action
    resource: str  # an ARN or "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    allowed_by: tuple[str, ...] = ()  # sources of the statements that allowed it
    denied_because: str = ""  # AWS's wording, after "because"


def evaluate(
    request: Request,
    identity: Sequence[Statement],
    resource_policy: Sequence[Statement] = (),
    key_policy: Sequence[Statement] | None = None,
    boundary: Sequence[Statement] | None = None,
) -> Decision:
    """AWS's evaluation logic for a request inside one account.

    A KMS key policy (`key_policy`) is the gate for its key: it must allow the
    principal itself, or allow the account (which lets IAM policies decide).
    Other resource policies add to identity policies. A permissions boundary
    (`boundary`) caps what the others allow: what it does not allow is denied.
    """
    action_name = request.action
    for source, statements, kind in (
        ("identity", identity, "an identity-based"),
        ("resource", resource_policy, "a resource-based"),
        ("key", key_policy or (), "a resource-based"),
        ("boundary", boundary or (), "a permissions boundary"),
    ):
        for statement in statements:
            if statement.effect == "Deny" and _applies(statement, request, check_principal=source not in ("identity", "boundary")):
                return Decision(False, denied_because=f"with an explicit deny in {kind} policy")
    identity_allows = tuple(s.source for s in identity if s.effect == "Allow" and _applies(s, request, check_principal=False))
    within_boundary = boundary is None or any(s.effect == "Allow" and _applies(s, request, check_principal=False) for s in boundary)
    if identity_allows and not within_boundary:
        return Decision(False, denied_because=f"no permissions boundary allows the {action_name} action")
    if key_policy is not None:
        direct = tuple(s.source for s in key_policy if s.effect == "Allow" and _applies(s, request, True, account_root=False))
        delegates = any(s.effect == "Allow" and _applies(s, request, True, account_root=True) for s in key_policy)
        if direct:
            return Decision(True, direct)
        if delegates and identity_allows:
            return Decision(True, identity_allows)
        if not delegates:
            return Decision(False, denied_because=f"no resource-based policy allows the {action_name} action")
        return Decision(False, denied_because=f"no identity-based policy allows the {action_name} action")
    resource_allows = tuple(s.source for s in resource_policy if s.effect == "Allow" and _applies(s, request, True, account_root=False))
    if within_boundary and (identity_allows or resource_allows):
        return Decision(True, identity_allows + resource_allows)
    return Decision(False, denied_because=f"no identity-based policy allows the {action_name} action")


def _applies(statement: Statement, request: Request, check_principal: bool, account_root: bool | None = None) -> bool:
    document = statement.document
    if not _action_matches(document, request.action):
        return False
    if not _resource_matches(document, request):
        return False
    if check_principal and not _principal_matches(document, request, account_root):
        return False
    return conditions_hold(document.get("Condition", {}), request.context)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _action_matches(document: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in document:
        return not any(_glob(pattern, action, ignore_case=True) for pattern in _listed(document["NotAction"]))
    return any(_glob(pattern, action, ignore_case=True) for pattern in _listed(document.get("Action")))


def _resource_matches(document: Mapping[str, Any], request: Request) -> bool:
    if "NotResource" in document:
        patterns = [substitute_variables(p, request.context) for p in _listed(document["NotResource"])]
        return not any(_glob(p, request.resource) for p in patterns)
    if "Resource" not in document:  # resource policies may leave it out: the resource they are attached to
        return True
    patterns = [substitute_variables(p, request.context) for p in _listed(document["Resource"])]
    return any(_glob(p, request.resource) for p in patterns)


def _principal_matches(document: Mapping[str, Any], request: Request, account_root: bool | None) -> bool:
    """Resource policies: `account_root` True matches only the account (delegation), False only the caller itself."""
    principal = document.get("Principal")
    if principal is None:
        return False
    if principal == "*":
        return account_root is not True
    names: list[str] = []
    for kind, value in principal.items():
        if kind == "AWS":
            names.extend(_listed(value))
        elif kind == "Service":
            names.extend(_listed(value))
    account_names = {request.account, f"arn:aws:iam::{request.account}:root"}
    is_root = any(name in account_names for name in names)
    is_caller = any(name in ("*", request.principal, request.role_arn) for name in names)
    if account_root is None:  # a Deny: naming the account names everyone in it
        return is_root or is_caller
    return is_root if account_root else is_caller


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def substitute_variables(text: str, context: Mapping[str, ContextValue]) -> str:
    """Policy variables (${aws:userid}, ...) from the request context; ${*} and ${?} stand for the characters."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _ESCAPES:
            return "\0" + name  # literal, not a wildcard
        found = _context_value(context, name)
        return found if isinstance(found, str) else "\0\0"  # a missing variable matches nothing

    substituted = _VARIABLE.sub(value, text)
    return substituted.replace("\0*", "[*]").replace("\0?", "[?]").replace("\0$", "$") if "\0" in substituted else substituted


def _context_value(context: Mapping[str, ContextValue], key: str) -> ContextValue | None:
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            return value
    return None


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NumericNotEquals"}


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, ContextValue]) -> bool:
    """Every operator's every key must hold (AND); any of a key's values may match (OR)."""
    return all(
        _condition_holds(operator, key, expected, context) for operator, block in conditions.items() for key, expected in block.items()
    )


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    expected_values = [str(v) for v in _listed(expected if not isinstance(expected, bool) else str(expected).lower())]
    actual = _context_value(context, key)
    if base == "Null":
        return (actual is None) == (expected_values[0].lower() == "true")
    if actual is None:
        if qualifier == "ForAllValues":
            return True
        return if_exists or base in _NEGATED
    actual_values = _listed(actual)
    compare = _operator(base)
    negated = base in _NEGATED
    expected_values = [substitute_variables(v, context) for v in expected_values]

    def matches(value: str) -> bool:
        return any(compare(e, value) for e in expected_values)

    if qualifier == "ForAllValues":
        return all(matches(v) != negated for v in actual_values)
    if qualifier == "ForAnyValue":
        return any(matches(v) != negated for v in actual_values)
    if negated:
        return not any(matches(v) for v in actual_values)
    return any(matches(v) for v in actual_values)


def _operator(base: str) -> Any:
    plain = base.replace("Not", "") if base in _NEGATED else base
    operators = {
        "StringEquals": lambda e, a: e == a,
        "StringEqualsIgnoreCase": lambda e, a: e.lower() == a.lower(),
        "StringLike": lambda e, a: _glob(e, a),
        "ArnEquals": lambda e, a: _glob(e, a),  # AWS lets ArnEquals use wildcards too
        "ArnLike": lambda e, a: _glob(e, a),
        "Bool": lambda e, a: e.lower() == a.lower(),
        "NumericEquals": lambda e, a: float(a) == float(e),
        "NumericLessThan": lambda e, a: float(a) < float(e),
        "NumericLessThanEquals": lambda e, a: float(a) <= float(e),
        "NumericGreaterThan": lambda e, a: float(a) > float(e),
        "NumericGreaterThanEquals": lambda e, a: float(a) >= float(e),
    }
    if plain not in operators:
        raise UnsupportedPolicyError(
            f"condition operator {base!r} is not evaluated by the embedded stack; "
            f"use one of {', '.join(sorted(operators))} or add it to mlrelay/local/iam/policies.py"
        )
    return operators[plain]
