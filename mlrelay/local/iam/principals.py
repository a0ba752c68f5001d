"""The stack's principals: its roles, the sessions services open with them, and the resource policies.

A service uses a role only if the role's trust policy names it (Lambda, Step
Functions, SageMaker), as STS would check. Each session gets its own access
key, so the emulator can tell from a request's signature who made it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlrelay.local.iam.policies import Statement


class TrustError(PermissionError):
    """A service tried to use a role whose trust policy does not name it."""


@dataclass(frozen=True)
class Role:
    logical_id: str
    name: str
    account: str
    statements: tuple[Statement, ...]
    trusted_services: frozenset[str]

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.name}"

    @property
    def role_id(self) -> str:  # the "AROA..." unique id aws:userid starts with
        return "AROA" + hashlib.sha256(self.name.encode()).hexdigest()[:17].upper()


@dataclass(frozen=True)
class Session:
    role: Role
    name: str
    access_key: str
    secret_key: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.role.account}:assumed-role/{self.role.name}/{self.name}"

    @property
    def userid(self) -> str:
        return f"{self.role.role_id}:{self.name}"


def role_statements(role_name: str, policies: Iterable[Mapping[str, Any]]) -> tuple[Statement, ...]:
    """A role's inline policies as statements that say where they come from (ROLE/POLICY/Sid)."""
    found: list[Statement] = []
    for number, policy in enumerate(policies):
        document = policy.get("PolicyDocument", policy)
        policy_name = policy.get("PolicyName", f"policy{number}")
        statements = document.get("Statement", [])
        for index, statement in enumerate([statements] if isinstance(statements, dict) else statements):
            found.append(Statement(f"{role_name}/{policy_name}/{statement.get('Sid') or index}", statement))
    return tuple(found)


def trusted_services(trust_policy: Mapping[str, Any]) -> frozenset[str]:
    services: set[str] = set()
    for statement in trust_policy.get("Statement", []):
        if statement.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(statement.get("Action")):
            services.update(_listed(statement.get("Principal", {}).get("Service")))
    return frozenset(services)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


@dataclass
class IamModel:
    """Everything the emulator needs to decide: the roles, resource policies by ARN, key policies and what each key encrypts."""

    account: str
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN
    resource_policies: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # bucket/queue/topic/function ARN
    key_policies: dict[str, tuple[Statement, ...]] = field(default_factory=dict)  # KMS key ARN -> key policy
    encryption_keys: dict[str, str] = field(default_factory=dict)  # resource ARN prefix -> KMS key ARN

    def __post_init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def role(self, arn: str) -> Role:
        try:
            return self.roles[arn]
        except KeyError as err:
            known = ", ".join(sorted(r.name for r in self.roles.values()))
            raise TrustError(f"role {arn} is not one of the stack's roles ({known})") from err

    def session(self, role_arn: str, service: str, session_name: str) -> Session:
        """The session `service` opens with the role, as sts:AssumeRole would give it (refused if not trusted)."""
        role = self.role(role_arn)
        if service not in role.trusted_services:
            raise TrustError(f"{service} cannot assume {role.name}: its trust policy names {sorted(role.trusted_services) or 'no service'}")
        digest = hashlib.sha256(f"{role.arn}/{session_name}".encode()).hexdigest().upper()
        session = Session(role, session_name, "ASIA" + digest[:16], digest[16:56])
        with self._lock:
            self._sessions.setdefault(session.access_key, session)
        return session

    def by_access_key(self, access_key: str) -> Session | None:
        with self._lock:
            return self._sessions.get(access_key)

    def resource_policy(self, resource: str) -> tuple[Statement, ...]:
        """The policy attached to the resource `resource` is (an object's is its bucket's)."""
        if resource.startswith("arn:aws:s3:::"):
            resource = resource.split("/", 1)[0]
        return self.resource_policies.get(resource, ())

    def key_for(self, resource: str) -> str | None:
        """The customer KMS key that encrypts `resource`, if any."""
        for prefix, key in self.encryption_keys.items():
            if resource == prefix or resource.startswith(prefix + "/"):
                return key
        return None
