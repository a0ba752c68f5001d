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
