"""Rich tables shared by the CLI and the demo."""

from __future__ import annotations

from rich.table import Table

from chalicelib.aws.model_versions import VersionRecord
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


def versions_table(versions: list[VersionRecord], approved_version: int | None) -> Table:
    table = Table("version", "status", "macro F1", "accuracy", "trained on (rows)", "run", box=None, padding=(0, 2))
    for record in sorted(versions, key=lambda v: v.version):
        current = " ← approved" if record.version == approved_version else ""
        table.add_row(
            f"v{record.version}{current}",
            _styled(record.status),
            f"{record.metrics.get('macro_f1', 0):.4f}",
            f"{record.metrics.get('accuracy', 0):.4f}",
            f"{record.metrics.get('train_rows', 0):,}",
            record.run_id,
        )
    return table
