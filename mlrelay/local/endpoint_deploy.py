"""What an UpdateEndpoint's DeploymentConfig asks for, decided purely: the traffic shifts and their waits.

SageMaker's blue/green update (its "Blue/Green Deployments" guide): the new
(green) fleet is provisioned; ALL_AT_ONCE shifts all traffic to it, CANARY
first a share (CanarySize) and LINEAR a share per step; each shift is followed
by a baking period of WaitIntervalInSeconds during which any alarm of the
AutoRollbackConfiguration in ALARM rolls the update back. After the last shift
the old (blue) fleet is kept TerminationWaitInSeconds, then ended. Without a
DeploymentConfig the update is all at once with no baking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

TRAFFIC_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
SIZE_TYPES = ("CAPACITY_PERCENT", "INSTANCE_COUNT")


class DeploymentConfigError(ValueError):
    """The DeploymentConfig is not one SageMaker accepts; the message names the field."""


@dataclass(frozen=True)
class Shift:
    green_share: float  # of requests, 0..1
    bake_seconds: float  # alarms are watched this long before the next shift


@dataclass(frozen=True)
class DeploymentPlan:
    shifts: tuple[Shift, ...]
    termination_wait_seconds: float
    alarms: tuple[str, ...]
    timeout_seconds: float | None  # MaximumExecutionTimeoutInSeconds: past it the update rolls back


def plan(deployment_config: dict[str, Any] | None, green_instances: int) -> DeploymentPlan:
    """The shifts of an update to a fleet of `green_instances` (at least 1; a serverless variant counts as 1)."""
    if not deployment_config:
        return DeploymentPlan((Shift(1.0, 0.0),), 0.0, (), None)
    policy = deployment_config.get("BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    kind, wait = routing.get("Type"), float(routing.get("WaitIntervalInSeconds", 0))
    if kind not in TRAFFIC_TYPES:
        raise DeploymentConfigError(f"TrafficRoutingConfiguration.Type {kind!r} is not one of {', '.join(TRAFFIC_TYPES)}")
    shifts: tuple[Shift, ...]
    if kind == "ALL_AT_ONCE":
        shifts = (Shift(1.0, wait),)
    else:
        size_field = "CanarySize" if kind == "CANARY" else "LinearStepSize"
        step = _share(routing.get(size_field), size_field, green_instances)
        if kind == "CANARY":
            shifts = (Shift(step, wait), Shift(1.0, 0.0))
        else:
            count = math.ceil(1 / step - 1e-9)
            shifts = tuple(Shift(min(1.0, step * (i + 1)), wait if i + 1 < count else 0.0) for i in range(count))
    alarms = tuple(a["AlarmName"] for a in (deployment_config.get("AutoRollbackConfiguration") or {}).get("Alarms", []))
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    return DeploymentPlan(shifts, float(policy.get("TerminationWaitInSeconds", 0)), alarms,
                          float(timeout) if timeout else None)


def _share(size: dict[str, Any] | None, name: str, green_instances: int) -> float:
    if not size or size.get("Type") not in SIZE_TYPES:
        raise DeploymentConfigError(f"TrafficRoutingConfiguration.{name}.Type must be one of {', '.join(SIZE_TYPES)}")
    value = float(size.get("Value", 0))
    share = value / 100 if size["Type"] == "CAPACITY_PERCENT" else value / max(1, green_instances)
    if not 0 < share <= 1:
        raise DeploymentConfigError(f"TrafficRoutingConfiguration.{name}.Value {value:g} is out of range: a "
                                    f"{size['Type']} of the new fleet ({green_instances} instances) between 0 and all of it")
    return share


def goes_to_green(request_number: int, green_share: float) -> bool:
    """Whether the n-th request (from 0) of a shift goes to the green fleet: exactly `green_share` of every run of
    requests, spread evenly (deterministic, so tests can count it)."""
    return math.floor((request_number + 1) * green_share + 1e-9) > math.floor(request_number * green_share + 1e-9)


def pick_variant(request_number: int, weights: list[tuple[str, float]]) -> str:
    """The variant the n-th request goes to, in proportion to the variants' weights (a low-discrepancy sequence:
    deterministic, and spread evenly over any run of requests)."""
    weights = [(name, weight) for name, weight in weights if weight > 0] or [(name, 1.0) for name, _ in weights]
    position = (request_number * _GOLDEN) % 1 * sum(weight for _, weight in weights)
    for name, weight in weights:
        if position < weight:
            return name
        position -= weight
    return weights[-1][0]


_GOLDEN = 0.6180339887498949
