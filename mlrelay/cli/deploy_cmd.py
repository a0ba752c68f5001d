"""`mlrelay deploy`: package the app and its infrastructure, and deploy them with CloudFormation."""

from __future__ import annotations

from pathlib import Path

import typer

from mlrelay.cli.output import console, fail


def deploy_command(
    stage: str = typer.Option(..., "--stage", help="A stage of .chalice/config.json with infra/parameters/<stage>.json."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only write the template and the zip (what `make package` does)."),
    out: Path | None = typer.Option(None, help="Where to write them; default build/package/<stage>."),
) -> None:
    """Build the template (chalice package merged with infra/resources.json) and deploy it to the current AWS account."""
    from mlrelay.deploy import DeployError, deploy, stack_parameters
    from mlrelay.packaging import PROJECT_ROOT, PackagingError, package

    directory = out or PROJECT_ROOT / "build" / "package" / stage
    try:
        stack_parameters(stage)  # fail before building if the stage has no parameters
        built = package(stage, directory)
    except (PackagingError, DeployError) as err:
        fail(str(err))
    size = built.zip_file.stat().st_size / 1024 / 1024
    console.print(f"template: {built.template}\nzip: {built.zip_file} ({size:.2f} MB)")
    if dry_run:
        return
    import boto3

    try:
        result = deploy(built, boto3.session.Session(), console.print)
    except DeployError as err:
        fail(str(err))
    for key, value in sorted(result.outputs.items()):
        console.print(f"  {key}: {value}")
