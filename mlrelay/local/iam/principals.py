"""The stack's principals: its roles, the sessions services open with them, and the resource policies.

A service uses a role only if the role's trust policy names it (Lambda, Step
Functions, SageMaker), as STS would check. Each session gets its own access
key, so the emulator can tell from a request's signature who made it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlrelay.local.iam.policies import Statement


class TrustError(PermissionError):
    """A service tried to use a role whose trust policy does not name it."""


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer managed policy of the template, which roles made at run time attach (or take as boundary)."""

    logical_id: str
    name: str
    arn: str
    statements: tuple[Statement, ...]
    census_name: str  # mlrelay-<stage>-<LogicalId>: the census counts it as a role, by the roles that attach it


@dataclass(frozen=True)
class RuntimeRole:
    """A role the stack's code made at run time, as IAM holds it (mlrelay/local/emulated/iam.py reads moto's)."""

    name: str
    path: str
    trust_policy: Mapping[str, Any]
    attached: tuple[str, ...]  # managed policy ARNs
    boundary: str | None  # the permissions boundary's ARN
    tags: Mapping[str, str]
    inline: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # policy name -> document


@dataclass(frozen=True)
class Role:
    logical_id: str
    name: str
    account: str
    statements: tuple[Statement, ...]
    trusted_services: frozenset[str]
    path: str = "/"
    boundary: tuple[Statement, ...] | None = None  # a permissions boundary's statements: allows must fall within them
    tags: Mapping[str, str] = field(default_factory=dict)  # aws:PrincipalTag/<key> in its sessions' requests
    census_name: str = ""  # whom the census counts its calls for: a role made at run time counts for its policy

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"

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
    managed_policies: dict[str, ManagedPolicy] = field(default_factory=dict)  # by ARN
    # the roles IAM holds beyond the template's (made at run time), by ARN; None when it holds none
    runtime_role: Callable[[str], RuntimeRole | None] = lambda arn: None

    def __post_init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def role(self, arn: str) -> Role:
        """A role of the template, or one made at run time as IAM holds it now (its policies may have changed)."""
        if arn in self.roles:
            return self.roles[arn]
        held = self.runtime_role(arn)
        if held is not None:
            return self._from_runtime(held)
        known = ", ".join(sorted(r.name for r in self.roles.values()))
        raise TrustError(f"role {arn} is neither one of the stack's roles ({known}) nor one made at run time")

    def _from_runtime(self, held: RuntimeRole) -> Role:
        statements = [s for arn in held.attached for s in self._policy(arn, held.name).statements]
        statements += role_statements(held.name, [{"PolicyName": n, "PolicyDocument": d} for n, d in sorted(held.inline.items())])
        boundary = self._policy(held.boundary, held.name) if held.boundary else None
        census = next((self.managed_policies[arn] for arn in held.attached if arn in self.managed_policies), None)
        return Role(
            census.logical_id if census else held.name, held.name, self.account, tuple(statements),
            trusted_services(held.trust_policy), held.path, boundary.statements if boundary else None, dict(held.tags),
            census_name=census.census_name if census else "",
        )

    def policies_as_roles(self) -> list[Role]:
        """The managed policies as the census counts them: one role each, for every role made at run time with it."""
        return [Role(p.logical_id, p.census_name, self.account, p.statements, frozenset()) for p in self.managed_policies.values()]

    def _policy(self, arn: str, role_name: str) -> ManagedPolicy:
        try:
            return self.managed_policies[arn]
        except KeyError as err:
            raise TrustError(
                f"role {role_name} uses the managed policy {arn}, which is not the template's: the embedded stack "
                f"evaluates only the template's managed policies ({', '.join(sorted(self.managed_policies)) or 'none'})"
            ) from err

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
