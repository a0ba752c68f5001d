"""`mlrelay runs list|show`: workflow runs and their state-by-state history."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail
from mlrelay.tables import steps_table
from mlrelay.runs import RunNotFoundError, list_runs, show_run

app = typer.Typer(help="Inspect workflow runs on the running local stack.", no_args_is_help=True)


@app.command("list")
def list_command(limit: int = typer.Option(50, help="Show at most this many runs, newest first.")) -> None:
    """List runs of every workflow, newest first."""
    info, client = connect()
    runs = list_runs(client("stepfunctions"), info.state_machines)
    if not runs:
        console.print("no runs yet: drop a config with `mlrelay local drop FILE`")
        return
    # Run ids are copied into `runs show`, so they are never cut.
    table = Table(
        *(Column(name, no_wrap=True) for name in ("run id", "workflow", "status", "started", "took")),
        box=None,
        padding=(0, 1),
    )
    for run in runs[:limit]:
        took = f"{(run.stopped - run.started).total_seconds():.1f}s" if run.stopped else "…"
        table.add_row(run.run_id, run.workflow, run.status, run.started.strftime("%m-%d %H:%M:%S"), took)
    console.print(table)


@app.command()
def show(run_id: str = typer.Argument(..., help="A run id from `mlrelay runs list`.")) -> None:
    """Show one run: its input, each state it went through, and how it ended."""
    info, client = connect()
    try:
        detail = show_run(client("stepfunctions"), info.state_machines, run_id)
    except RunNotFoundError as err:
        fail(str(err))
    summary = detail.summary
    console.print(f"[bold]{summary.run_id}[/] ({summary.workflow}): {summary.status}")
    console.print(f"execution: {summary.execution_arn}")
    config = detail.input.get("config", {})
    console.print(f"model: {detail.input.get('model_name')}   requested: {detail.input.get('requested_at')}")
    console.print(f"config: s3://{config.get('bucket')}/{config.get('key')} (version {config.get('version_id')})")
    console.print(steps_table(detail))
    for step in detail.steps:
        if step.status in ("failed", "caught") and step.cause:
            console.print(f"[yellow]{step.name}[/] {step.error}: {step.cause}")
    if detail.error:
        console.print(f"[red]error[/]: {detail.error}: {detail.cause or ''}")
