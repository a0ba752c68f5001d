"""`mlrelay init NAME --template T`: a new model folder to start a use case from."""

from __future__ import annotations

from pathlib import Path

import typer

from mlrelay.cli.connection import connect, target
from mlrelay.cli.output import console, fail
from mlrelay.local.state_file import NoLocalStackError, local_config_bucket, read_state
from mlrelay.templates import TEMPLATES, TemplateError, create_model_folder, data_uri_for

TEMPLATE_HELP = "; ".join(f"{name}: {what}" for name, what in TEMPLATES.items())


def init_command(
    name: str = typer.Argument(..., help="The model's name: lowercase letters, digits and hyphens (e.g. packaging-type)."),
    template: str = typer.Option(..., "--template", "-t", help=TEMPLATE_HELP),
    directory: Path = typer.Option(Path("."), "--directory", "-d", help="Where to create the folder NAME."),
    data_uri: str | None = typer.Option(
        None, help="The training table's S3 URI for data.uri (default: s3://<the stack's bucket>/data/NAME/train.csv)."
    ),
) -> None:
    """Create NAME/ from a template: config.yaml, model/train.py and requirements.txt, a sample table in data/,
    and tests/test_model.py, which runs the code on that table with no AWS.

    data.uri points into the bucket of the stack the CLI talks to (the local one, or with --stage the deployed
    one), where `mlrelay submit NAME --data NAME/data/sample.csv` puts the sample table."""
    uri = data_uri or data_uri_for(_stack_bucket(), name)
    try:
        folder = create_model_folder(name, template, directory, uri)
    except TemplateError as err:
        fail(str(err), code=2)
    console.print(f"[green]✓[/] created {folder}/ from the {template} template:")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        console.print(f"  {path.relative_to(folder)}")
    console.print(f"data.uri: {uri}")
    console.print("next: run the code on the sample table, with no AWS, then train it on the stack and wait for the outcome:")
    console.print(f"  python -m pytest {folder}/tests", soft_wrap=True)
    console.print(f"  mlrelay submit {folder} --data {folder}/data/sample.csv", soft_wrap=True)


def _stack_bucket() -> str:
    if target.stage:
        info, _ = connect()
        return info.outputs["ConfigBucketName"]
    try:
        return read_state().outputs["ConfigBucketName"]
    except NoLocalStackError:
        return local_config_bucket()  # the bucket `mlrelay local up` will have
