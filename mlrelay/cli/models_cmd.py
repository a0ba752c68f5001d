"""`mlrelay models list|show`: the model registry as the training workflow left it."""

from __future__ import annotations

import typer
from rich.table import Table

from chalicelib.aws.model_versions import ModelVersions
from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail
from mlrelay.tables import judged_on, versions_table

app = typer.Typer(help="Registered model versions, their metrics and decisions.", no_args_is_help=True)


@app.command("list")
def list_command() -> None:
    """Every model name with its version count and the approved version."""
    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    names = versions.model_names()
    if not names:
        console.print("no models yet: drop a training config with `mlrelay local drop FILE`")
        return
    table = Table("model", "task", "versions", "approved", "judged on", "latest decision", box=None, padding=(0, 2))
    for name in names:
        records = versions.versions(name)
        approved = versions.approved(name)
        latest = max(records, key=lambda r: r.version)
        table.add_row(
            name, latest.task, str(len(records)), f"v{approved.version}" if approved else "none",
            judged_on(approved) if approved else "", latest.decision.get("summary", ""),
        )
    console.print(table)


@app.command()
def show(name: str = typer.Argument(..., help="A model name from `mlrelay models list`.")) -> None:
    """One model: each version with its registry status, metrics, run and the reasons for its decision."""
    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    records = versions.versions(name)
    if not records:
        fail(f"no model named {name!r}; `mlrelay models list` shows the names")
    approved = versions.approved(name)
    console.print(f"[bold]{name}[/]: approved version {f'v{approved.version}' if approved else 'none'}")
    console.print(versions_table(records, approved.version if approved else None))
    for record in sorted(records, key=lambda r: r.version):
        console.print(f"v{record.version} ({record.status}):")
        for reason in record.decision.get("reasons", []):
            console.print(f"   {reason}")
