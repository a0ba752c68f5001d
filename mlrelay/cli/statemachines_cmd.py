"""`mlrelay statemachines build`: statemachines/*.asl.json from mlrelay/asl/."""

from __future__ import annotations

import typer

from mlrelay.cli.output import console

app = typer.Typer(help="Step Functions definitions (built from mlrelay/asl/, committed).", no_args_is_help=True)


@app.command()
def build() -> None:
    """Write statemachines/*.asl.json from the workflow definitions in mlrelay/asl/ and report what changed."""
    from mlrelay.asl.build import STATEMACHINES_DIR, build_state_machines

    before = {p.name: p.read_text() for p in STATEMACHINES_DIR.glob("*.asl.json")}
    for name, path in build_state_machines().items():
        changed = "unchanged" if before.get(path.name) == path.read_text() else "updated"
        console.print(f"[green]✓[/] {name}: {path} ({changed})")
