"""`mlrelay destroy`: delete a deployed stack, keeping its data, and say what it kept."""

from __future__ import annotations

import typer
from rich.markup import escape

from mlrelay.cli.deploy_cmd import asker, aws_session, say
from mlrelay.cli.output import fail


def destroy_command(
    stage: str = typer.Option(..., "--stage", help="Delete the stack mlrelay-STAGE."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask (needed without a terminal)."),
) -> None:
    """Delete stack mlrelay-STAGE. The bucket and the tables (their DeletionPolicy keeps them), the deployment bucket and the
    Slack parameter stay; it prints each with how to delete it by hand."""
    from mlrelay.destroy import destroy
    from mlrelay.stack_events import StackError

    try:
        destroy(aws_session(), stage, say, asker(yes))
    except StackError as err:
        fail(escape(str(err)))
