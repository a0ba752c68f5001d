"""The stage's endpoints as `mlrelay endpoints list` and `mlrelay models show` print them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlrelay.costs import EndpointCost, endpoint_cost, prices


@dataclass(frozen=True)
class EndpointRow:
    endpoint: str
    serves: str  # "v3", or "de v2, fr v1" for a family's multi-model endpoint
    status: str  # SageMaker's, now
    settings: str
    cost: EndpointCost | None


def endpoint_rows(versions: Any, sagemaker: Any, stage: str) -> list[EndpointRow]:
    """Every endpoint of the stage: what the deployments recorded, with SageMaker's status now; an endpoint still being
    made for the first time has no record yet and shows its status alone."""
    served: dict[str, list[dict[str, Any]]] = {}
    for name in versions.model_names():
        record = versions.deployment(name)
        if record is not None:
            served.setdefault(record["endpoint"], []).append({**record, "model_name": name})
    listed = {e["EndpointName"]: e["EndpointStatus"] for page in sagemaker.get_paginator("list_endpoints").paginate(
        NameContains=f"mlrelay-{stage}-") for e in page["Endpoints"]}
    rows = []
    for endpoint in sorted(set(served) | set(listed)):
        records = sorted(served.get(endpoint, []), key=lambda r: r["model_name"])
        status = listed.get(endpoint, "gone")
        if not records:
            rows.append(EndpointRow(endpoint, "(first deployment)", status, "", None))
            continue
        multi = any(r.get("target_model") for r in records)
        serves = ", ".join(f"{r['model_name']} v{r['version']}" for r in records) if multi else f"v{records[0]['version']}"
        cost = endpoint_cost(records[-1]["serving"], prices())
        rows.append(EndpointRow(endpoint, serves, status, cost.basis, cost))
    return rows


def row_text(row: EndpointRow) -> str:
    """One endpoint on one line (names are long: a table would cut them in a narrow terminal)."""
    cost = cost_text(row.cost)
    return f"{row.endpoint}: {row.serves}, {row.status}" + (f", {row.settings}" if row.settings else "") + (f", {cost}" if cost else "")


def cost_text(cost: EndpointCost | None) -> str:
    if cost is None:
        return ""
    if cost.per_hour is not None:
        return f"${cost.per_hour:.3f}/hour (${cost.per_month:,.0f}/month)"
    if cost.per_thousand_requests is not None:
        return f"${cost.per_thousand_requests:.4f} per 1,000 requests of 100 ms"
    return "no price known"


def endpoint_line(versions: Any, sagemaker: Any, model_name: str) -> str | None:
    """`mlrelay models show`'s line on the model's endpoint: the version it serves and SageMaker's status now."""
    from botocore.exceptions import ClientError

    record = versions.deployment(model_name)
    if record is None:
        return None
    try:
        status = sagemaker.describe_endpoint(EndpointName=record["endpoint"])["EndpointStatus"]
    except ClientError as err:
        status = f"unknown ({err.response.get('Error', {}).get('Code')})"
    target = f" as {record['target_model']}" if record.get("target_model") else ""
    return (f"endpoint {record['endpoint']}: serves v{record['version']}{target} since {str(record['deployed_at'])[:19]}, "
            f"{status} now (`mlrelay predict {model_name}`)")
