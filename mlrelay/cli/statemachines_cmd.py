"""`mlrelay statemachines build|resolve`: statemachines/*.asl.json from mlrelay/asl/, and copies for linters."""

from __future__ import annotations

from pathlib import Path

import typer

from mlrelay.cli.output import console

app = typer.Typer(help="Step Functions definitions (built from mlrelay/asl/, committed).", no_args_is_help=True)


@app.command()
def build() -> None:
    """Write statemachines/*.asl.json from the workflow definitions in mlrelay/asl/, and chalicelib/resume/states.json
    (the state names a resume needs) from them, and report what changed."""
    from mlrelay.asl.build import RESUME_STATES_FILE, STATEMACHINES_DIR, build_state_machines

    before = {p.name: p.read_text() for p in [*STATEMACHINES_DIR.glob("*.asl.json"), RESUME_STATES_FILE] if p.exists()}
    for name, path in build_state_machines().items():
        changed = "unchanged" if before.get(path.name) == path.read_text() else "updated"
        console.print(f"[green]✓[/] {name}: {path} ({changed})")


@app.command()
def resolve(
    out: Path = typer.Option(..., "--out", help="Folder to write the resolved copies to."),
    partition: str = typer.Option("aws", "--partition", help="aws, aws-cn or aws-us-gov."),
) -> None:
    """Copies of statemachines/*.asl.json with the service integrations' ARNs filled in, as the template does, for
    linters (statelint) that want every Resource to be an ARN."""
    from mlrelay.asl.build import write_resolved

    for path in write_resolved(out, partition):
        console.print(f"[green]✓[/] {path}")
