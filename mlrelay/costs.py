"""What a run would cost on AWS: a pure estimate from what it used and the prices in mlrelay/prices.json.

The usage is read from the run itself (mlrelay/run_usage.py): its state transitions, its Lambda steps (one
request each, their duration times the function's memory), the SageMaker pipeline steps that really ran
(cache hits cost nothing) in instance-seconds per instance type, and its Data API statements, each billed
as Redshift Serverless bills a burst of work: the workgroup's base RPUs for at least 60 seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class Usage:
    transitions: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    instance_seconds: dict[str, float] = field(default_factory=dict)  # instance type -> seconds x instance count
    warehouse_statement_seconds: tuple[float, ...] = ()  # each statement's own duration


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    usd: float | None  # None: no price known for it


@dataclass(frozen=True)
class Estimate:
    lines: tuple[CostLine, ...]

    @property
    def total(self) -> float:
        return sum(line.usd or 0.0 for line in self.lines)

    @property
    def unpriced(self) -> tuple[str, ...]:
        return tuple(line.item for line in self.lines if line.usd is None)


@cache
def prices() -> dict[str, Any]:
    return json.loads(PRICES_FILE.read_text())


def estimate(usage: Usage, price: dict[str, Any]) -> Estimate:
    lines = [
        CostLine("Step Functions state transitions", f"{usage.transitions:,}", usage.transitions * price["stepfunctions_per_transition"]),
        CostLine("Lambda requests", f"{usage.lambda_requests:,}", usage.lambda_requests * price["lambda_per_request"]),
        CostLine("Lambda compute", f"{usage.lambda_gb_seconds:,.2f} GB-s", usage.lambda_gb_seconds * price["lambda_per_gb_second"]),
    ]
    for instance_type, seconds in sorted(usage.instance_seconds.items()):
        hourly = price["sagemaker_per_instance_hour"].get(instance_type)
        lines.append(CostLine(f"SageMaker {instance_type}", f"{seconds:,.0f} instance-s",
                              seconds / 3600 * hourly if hourly is not None else None))
    if usage.warehouse_statement_seconds:
        minimum, rpus = price["redshift_serverless_minimum_seconds"], price["redshift_serverless_base_rpu"]
        billed = sum(max(minimum, seconds) for seconds in usage.warehouse_statement_seconds)
        rpu_seconds = billed * rpus
        count = len(usage.warehouse_statement_seconds)
        lines.append(CostLine("Redshift Serverless", f"{rpu_seconds:,.0f} RPU-s ({count} statements, {rpus} RPU, {minimum} s minimum)",
                              rpu_seconds / 3600 * price["redshift_serverless_per_rpu_hour"]))
    return Estimate(tuple(lines))


HOURS_PER_MONTH = 730  # AWS's pricing pages' month


@dataclass(frozen=True)
class EndpointCost:
    """What an endpoint costs at its serving settings (docs/serving.md)."""

    per_hour: float | None  # instances: by the hour, used or not; None for serverless (by use) or an unpriced type
    per_thousand_requests: float | None  # serverless: 1,000 requests of `request_seconds` each, with their payloads
    basis: str

    @property
    def per_month(self) -> float | None:
        return self.per_hour * HOURS_PER_MONTH if self.per_hour is not None else None


def endpoint_cost(serving: dict[str, Any], price: dict[str, Any], request_seconds: float = 0.1,
                  payload_bytes: int = 2048) -> EndpointCost:
    """Instances by the hour (type x count); serverless by compute (memory x duration) and data in and out per request."""
    if serving.get("endpoint") == "serverless":
        gb = serving["memory_mb"] / 1024
        per_request = (gb * request_seconds * price["sagemaker_serverless_per_gb_second"]
                       + payload_bytes / 1024**3 * price["sagemaker_serverless_per_gb_processed"])
        return EndpointCost(None, per_request * 1000, f"serverless {serving['memory_mb']} MB")
    hourly = price["sagemaker_hosting_per_instance_hour"].get(serving["instance_type"])
    count = int(serving.get("instance_count", 1))
    return EndpointCost(hourly * count if hourly is not None else None, None, f"{serving['instance_type']} x{count}")
