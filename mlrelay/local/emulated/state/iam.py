"""The IAM roles the stack's code made at run time (a model's role, chalicelib/aws/model_roles.py): one file,
written after each IAM write. The template's roles and policies are not in it: each start makes them again from
the template, and these roles are made again on top, attached to the policies of the same names."""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.iam.models import iam_backends

from mlrelay.local.durable.store import StateStore, write_atomically
from mlrelay.local.state_file import ACCOUNT_ID


def _backend() -> Any:
    return iam_backends[ACCOUNT_ID]["aws"]


class IamState:
    def __init__(self, store: StateStore):
        self._store = store
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            roles = [_described(role) for role in list(_backend().roles.values())]
            if not self._store.frozen.is_set():
                write_atomically(self._store.path("iam-roles.json"), json.dumps(roles, sort_keys=True).encode())

    def restore(self) -> int:
        path = self._store.path("iam-roles.json")
        if not path.exists():
            return 0
        backend = _backend()
        made_again = {held.name for held in backend.roles.values()}  # by this start (the functions' placeholder role)
        roles = [role for role in json.loads(path.read_text()) if role["name"] not in made_again]
        for role in roles:
            backend.create_role(role["name"], role["trust"], role["path"], role["boundary"], role["description"],
                                [{"Key": k, "Value": v} for k, v in role["tags"].items()], None)
            for arn in role["attached"]:
                backend.attach_role_policy(arn, role["name"])
            for name, document in role["inline"].items():
                backend.put_role_policy(role["name"], name, document)
        return len(roles)


def _described(role: Any) -> dict[str, Any]:
    return {
        "name": role.name, "path": role.path, "trust": role.assume_role_policy_document,
        "boundary": role.permissions_boundary_arn, "description": role.description or "",
        "tags": {tag["Key"]: tag["Value"] for tag in role.tags or []},
        "attached": sorted(policy.arn for policy in role.managed_policies.values()),
        "inline": dict(role.policies),
    }
