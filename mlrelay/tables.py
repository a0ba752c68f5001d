"""Rich tables shared by the CLI and the demo."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.metrics import metric_values
from mlrelay.runs import RunDetail

_STATUS_STYLE = {"succeeded": "green", "failed": "red", "caught": "yellow", "Approved": "green", "Rejected": "red"}


def _styled(text: str) -> str:
    style = _STATUS_STYLE.get(text)
    return f"[{style}]{text}[/]" if style else text


def steps_table(detail: RunDetail) -> Table:
    table = Table("step", "type", "status", "attempts", "took", "error", box=None, padding=(0, 2))
    for step in detail.steps:
        took = f"{(step.exited - step.entered).total_seconds():.2f}s" if step.exited else "…"
        table.add_row(step.name, step.state_type, _styled(step.status), str(step.attempts or ""), took, step.error or "")
    return table


def judged_on(record: VersionRecord) -> str:
    """The metric the version was judged on, with its value: "rmse 52.1430"."""
    metric = record.decision.get("primary_metric", "")
    value = metric_values(record.metrics).get(metric)
    return f"{metric} {value:.4f}" if value is not None else metric


def missing_values(metrics: dict[str, Any]) -> str | None:
    """The version's features with blank cells, most first: "missing values: material 5.0%, weight_g 0.2%"; None for a
    version evaluated before the share was measured."""
    shares = metrics.get("data", {}).get("missing_share")
    if shares is None:
        return None
    missing = sorted(((float(share), feature) for feature, share in shares.items() if float(share) > 0), reverse=True)
    if not missing:
        return "missing values: none (training and validation rows)"
    return "missing values (training and validation rows): " + ", ".join(f"{feature} {share:.1%}" for share, feature in missing)


def versions_table(versions: list[VersionRecord], approved_version: int | None) -> Table:
    table = Table("version", "status", "judged on", "trained on (rows)", "code", "run", box=None, padding=(0, 2))
    for record in sorted(versions, key=lambda v: v.version):
        current = " ← approved" if record.version == approved_version else ""
        code = record.code
        table.add_row(
            f"v{record.version}{current}",
            _styled(record.status),
            judged_on(record),
            f"{record.metrics.get('data', {}).get('train_rows', 0):,}",
            f"{code.get('framework', '')} {code.get('code_uri', '').rsplit('/', 2)[-2][:12]}" if code else "",
            record.run_id,
        )
    return table
