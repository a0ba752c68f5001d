"""`mlrelay console`: the web console over a stage, on localhost, with the operator's own credentials."""

from __future__ import annotations

import typer

from mlrelay.cli.connection import connect, target
from mlrelay.cli.output import console, fail

DEFAULT_PORT = 8400


def console_command(
    stage: str | None = typer.Option(None, "--stage", help="A deployed stack: mlrelay-STAGE (as the root --stage); "
                                     "default: the local stack `mlrelay local up` runs."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=0, max=65535, help="The port to serve on (0: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to serve on. Anything but localhost needs "
                             "--allow-remote, and then a token the command prints."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Serve on a non-local --host, behind a printed token."),
) -> None:
    """Serve the web console: runs as graphs (and Resume), models with their metrics charted (and Approve, Reject,
    Rollback), monitoring, alerts. It reads and acts through the same calls as the CLI, with your credentials; no
    service is deployed, and nothing is reachable beyond this machine unless you ask."""
    from mlrelay.console.access import BindRefusedError, access_for
    from mlrelay.console.app import create_app
    from mlrelay.console.server import PortTakenError, address, bind, serve
    from mlrelay.console.stage import Stage

    if stage:
        target.stage = stage
    try:
        access = access_for(host, allow_remote)
    except BindRefusedError as err:
        fail(str(err))
    info, client = connect()
    app = create_app(Stage(info, client, target.cli_flags), access)
    try:
        listener = bind(host, port)
    except PortTakenError as err:
        fail(str(err))
    url = address(listener) + (f"?token={access.token}" if access.token else "")
    where = f"deployed stage {info.stage}" if target.stage else f"the local stack ({info.endpoint})"
    console.print(f"console for {where}: [bold]{url}[/] (Ctrl-C stops it)", highlight=False, soft_wrap=True)
    serve(app, listener)
