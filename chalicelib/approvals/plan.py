"""What a person's decision on a model version changes: pure, from the versions' statuses and the approved pointer.

- approve V: V becomes Approved and the version inference uses.
- reject V: V becomes Rejected; if inference used it, the pointer falls back to the newest other Approved version
  (or to none: inference then fails clearly until someone approves one).
- rollback [to V]: inference goes back to V (default: the newest Approved version older than the current one);
  the current one becomes Rejected, so nothing promotes it again by accident.
A decision that changes nothing (the same event twice, an approval of the approved version) is a no-op, said so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["approve", "reject", "rollback"]
APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"


class DecisionError(ValueError):
    """The decision cannot be made as asked; the message says what to do instead."""


@dataclass(frozen=True)
class StatusChange:
    version: int
    before: str
    after: str


@dataclass(frozen=True)
class DecisionPlan:
    model_name: str
    action: Action
    version: int  # the version decided on (for a rollback, the one rolled back to)
    changes: tuple[StatusChange, ...]
    pointer_before: int | None
    pointer_after: int | None
    unchanged: str = ""  # why nothing changes, when nothing does

    @property
    def moves_pointer(self) -> bool:
        return self.pointer_after != self.pointer_before


def plan_decision(
    action: Action, model_name: str, statuses: dict[int, str], pointer: int | None, version: int | None,
) -> DecisionPlan:
    """`statuses`: every version's registry status; `pointer`: the version inference uses now."""
    if action == "rollback":
        return _rollback(model_name, statuses, pointer, version)
    if version is None:
        raise DecisionError(f"say which version of {model_name} to {action}")
    status = _status_of(model_name, statuses, version)
    if action == "approve":
        if status == APPROVED and pointer == version:
            return _unchanged(model_name, action, version, pointer, f"v{version} is already approved and in use")
        # Re-pointing at a version already Approved still records who did it, in that version's history.
        return DecisionPlan(model_name, action, version, (StatusChange(version, status, APPROVED),), pointer, version)
    if status == REJECTED:
        return _unchanged(model_name, action, version, pointer, f"v{version} is already rejected")
    fallback = pointer
    if pointer == version:
        fallback = max((v for v, s in statuses.items() if s == APPROVED and v != version), default=None)
    return DecisionPlan(model_name, action, version, (StatusChange(version, status, REJECTED),), pointer, fallback)


def _rollback(model_name: str, statuses: dict[int, str], pointer: int | None, version: int | None) -> DecisionPlan:
    if pointer is None:
        raise DecisionError(f"{model_name} has no approved version to roll back from: approve one with `mlrelay models approve`")
    if version is None:
        version = max((v for v, s in statuses.items() if s == APPROVED and v < pointer), default=None)
        if version is None:
            raise DecisionError(f"{model_name} has no approved version before v{pointer}: name one with --to VERSION")
    status = _status_of(model_name, statuses, version)
    if version == pointer:
        return _unchanged(model_name, "rollback", version, pointer, f"v{version} is already the version in use")
    if status != APPROVED:
        raise DecisionError(
            f"v{version} of {model_name} is {status}, not Approved: to use it, `mlrelay models approve {model_name} {version}`"
        )
    current = statuses.get(pointer, APPROVED)
    return DecisionPlan(model_name, "rollback", version, (StatusChange(pointer, current, REJECTED),), pointer, version)


def _status_of(model_name: str, statuses: dict[int, str], version: int) -> str:
    if version not in statuses:
        known = ", ".join(f"v{v}" for v in sorted(statuses)) or "none"
        raise DecisionError(f"{model_name} has no v{version} (versions: {known}); `mlrelay models show {model_name}` lists them")
    return statuses[version]


def _unchanged(model_name: str, action: Action, version: int, pointer: int | None, why: str) -> DecisionPlan:
    return DecisionPlan(model_name, action, version, (), pointer, pointer, unchanged=why)
