"""`mlrelay deploy`: package the app and its infrastructure, and deploy them with CloudFormation."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from mlrelay.cli.connection import target
from mlrelay.cli.output import console, errors, fail


def say(message: str) -> None:
    """One line as written: CloudFormation's reasons hold brackets, and a refusal stays one line in a log."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def asker(yes: bool) -> Callable[[str], bool] | None:
    """--yes agrees to everything; a terminal asks; anything else (CI, a pipe) has nobody to ask."""
    if yes:
        return lambda question: True
    if sys.stdin.isatty():
        return lambda question: typer.confirm(question, default=False)
    return None


def aws_session() -> Any:
    """The session of the root options --profile and --region, or the usual credential chain."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session(profile_name=target.profile, region_name=target.region)
    except ProfileNotFound:
        fail(f"no AWS profile named {target.profile!r}: see `aws configure list-profiles`")
    if not session.region_name:
        fail("no AWS region: pass --region (mlrelay --region REGION deploy ...) or set AWS_REGION")
    return session


def refuse(refusals: list[str]) -> None:
    for refusal in refusals:
        errors.print(f"[bold red]refused:[/] {escape(refusal)}", soft_wrap=True)
    raise typer.Exit(1)


def deploy_command(
    stage: str = typer.Option(..., "--stage", help="A stage of .chalice/config.json with infra/parameters/<stage>.json."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only write the template and the zip (what `make package` does); no AWS call."),
    plan: bool = typer.Option(
        False, "--plan", help="Run the checks, create the change set, print what it would change, delete it and stop. "
        "Uploads the zip and the template to the deployment bucket (a change set reads them there); the stack is not changed."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete a stack left empty by a failed first create (ROLLBACK_COMPLETE) unasked."),
    frameworks: str | None = typer.Option(
        None, "--frameworks", help="Comma-separated frameworks your configs use, e.g. sklearn,xgboost: the region must have their "
        "images (default: every framework mlrelay supports)."),
    out: Path | None = typer.Option(None, help="Where to write them; default build/package/<stage>."),
) -> None:
    """Build the template (chalice package merged with infra/resources.json) and deploy it to the current AWS account.

    First, changing nothing, it refuses what would break (docs/deploy.md lists the checks).
    """
    from mlrelay.deploy import DeployError, DeployOptions, DeployRefused, deploy, stack_parameters
    from mlrelay.packaging import PROJECT_ROOT, PackagingError, package
    from mlrelay.stack_events import StackError

    if dry_run and plan:
        fail("--dry-run writes the package without calling AWS, --plan also plans the change set: pass one")
    directory = out or PROJECT_ROOT / "build" / "package" / stage
    try:
        stack_parameters(stage)  # fail before building if the stage has no parameters
        built = package(stage, directory)
    except (PackagingError, DeployError) as err:
        fail(escape(str(err)))
    size = built.zip_file.stat().st_size / 1024 / 1024
    console.print(f"template: {built.template}\nzip: {built.zip_file} ({size:.2f} MB)")
    if dry_run:
        return
    chosen = tuple(f.strip() for f in frameworks.split(",") if f.strip()) if frameworks is not None else None
    options = DeployOptions(plan=plan, frameworks=chosen, confirm=asker(yes))
    try:
        result = deploy(built, aws_session(), say, options)
    except DeployRefused as err:
        refuse(err.refusals)
    except (DeployError, StackError) as err:
        fail(escape(str(err)))
    for key, value in sorted(result.outputs.items()):
        say(f"  {key}: {value}")
