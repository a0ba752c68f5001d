"""The `mlrelay` command: `mlrelay --help` lists what it does.

Command modules import what a command needs (boto3, the config models, the
emulator) inside that command, so `--help` and `config validate` start in a
fraction of a second; tests/unit/test_cli_startup.py keeps it so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mlrelay.cli import (
    config_cmd,
    console_cmd,
    data_cmd,
    deploy_cmd,
    destroy_cmd,
    doctor_cmd,
    explain_cmd,
    init_cmd,
    lineage_cmd,
    local_cmd,
    models_cmd,
    monitor_cmd,
    pipelines_cmd,
    runs_cmd,
    schedule_cmd,
    serving_cmd,
    statemachines_cmd,
    submit_cmd,
    warehouse_cmd,
)
from mlrelay.cli.connection import target
from mlrelay.cli.output import console, errors, fail

app = typer.Typer(
    help="mlrelay: event-driven MLOps on AWS. Validate configs, run the stack locally, inspect runs.\n\n"
    "Commands that read or act on a stack talk to the deployed stack mlrelay-STAGE when given --stage STAGE "
    "(with your AWS credentials: --profile, --region, or the usual AWS_* variables), and otherwise to the "
    "local stack that `mlrelay local up` runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def choose_stack(
    stage: str | None = typer.Option(None, "--stage", envvar="MLRELAY_CLI_STAGE", help="A deployed stack: mlrelay-STAGE."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for --stage (default: the credential chain)."),
    region: str | None = typer.Option(None, "--region", help="AWS region for --stage (default: your configured one)."),
) -> None:
    target.stage, target.profile, target.region = stage, profile, region
app.command("init")(init_cmd.init_command)
app.command("submit")(submit_cmd.submit_command)
app.add_typer(config_cmd.app, name="config")
app.add_typer(local_cmd.app, name="local")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(models_cmd.app, name="models")
models_cmd.app.command("lineage")(lineage_cmd.lineage_command)
models_cmd.app.command("reproduce")(lineage_cmd.reproduce_command)
app.add_typer(lineage_cmd.app, name="lineage")
app.add_typer(monitor_cmd.app, name="monitor")
app.add_typer(data_cmd.app, name="data")
app.add_typer(pipelines_cmd.app, name="pipelines")
app.add_typer(statemachines_cmd.app, name="statemachines")
app.add_typer(warehouse_cmd.app, name="warehouse")
app.command("deploy")(deploy_cmd.deploy_command)
app.command("doctor")(doctor_cmd.doctor_command)
app.command("destroy")(destroy_cmd.destroy_command)
app.command("schedule")(schedule_cmd.schedule_command)
app.command("explain")(explain_cmd.explain_command)
app.command("predict")(serving_cmd.predict_command)
app.add_typer(serving_cmd.endpoints_app, name="endpoints")
app.command("console")(console_cmd.console_command)


@app.command()
def demo(
    stage: str = typer.Option("dev", help="Chalice stage whose settings the stack uses."),
    state_dir: Path | None = typer.Option(
        None, help="Keep the demo stack's state in this empty folder, as `mlrelay local up` keeps its own "
        "(benchmarks/durability.py times the demo so) [default: in memory]."),
) -> None:
    """Run the end-to-end demo on a fresh embedded AWS stack; exits 1 if any check fails."""
    from mlrelay.demo import run_demo

    if state_dir is not None and state_dir.exists() and any(state_dir.iterdir()):
        fail(f"{state_dir} is not empty: the demo starts from nothing; name a new folder", code=2)
    if not run_demo(console, stage=stage, state_dir=state_dir):
        raise typer.Exit(1)


def run() -> None:
    """The `mlrelay` entry point: an AWS error a command did not expect is one line, not a traceback."""
    try:
        app()
    except Exception as err:
        if not type(err).__module__.startswith(("botocore", "boto3")):
            raise
        errors.print(f"[bold red]error:[/] {err}")
        sys.exit(1)


if __name__ == "__main__":
    run()
