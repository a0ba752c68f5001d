"""A SageMaker endpoint's state as the deploy steps reason about it (chalicelib/training/deploy_plan.py)."""

from __future__ import annotations

from dataclasses import dataclass

# Statuses in which SageMaker is changing the endpoint: a deployment waits for them to end.
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


class EndpointBusyError(RuntimeError):
    """The endpoint is changing (created, updated, rolled back or deleted): try again once it settled."""


@dataclass(frozen=True)
class EndpointState:
    name: str
    status: str  # SageMaker's EndpointStatus
    config_name: str
    failure_reason: str = ""

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS
