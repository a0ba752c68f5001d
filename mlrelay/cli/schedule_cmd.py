"""`mlrelay schedule daily|monthly`: fire an inference schedule now, on the local stack or a deployed one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail


def schedule_command(
    mode: str = typer.Argument(..., help="daily or monthly"),
    at: str = typer.Option(None, help="The schedule's time, ISO 8601 (default: now, UTC)."),
) -> None:
    """Fire the daily or monthly inference schedule now, as EventBridge would at its time.

    Invokes the stack's on_inference_schedule function with the schedule's input (on AWS,
    mlrelay-<stage>-on_inference_schedule), so runs start exactly as the rule would start them.
    """
    if mode not in ("daily", "monthly"):
        fail(f"mode must be daily or monthly (got {mode!r})", code=2)
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(UTC)
    except ValueError as err:
        fail(f"--at must be an ISO 8601 time like 2026-11-23T05:00:00Z ({err})", code=2)
    info, client = connect()
    response = client("lambda").invoke(
        FunctionName=info.functions["on_inference_schedule"],
        Payload=json.dumps({"mode": mode, "scheduled_for": moment.astimezone(UTC).isoformat()}).encode(),
    )
    answer = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        fail(f"the schedule handler failed: {answer}")
    console.print(f"{mode} schedule at {moment.isoformat()}: started {answer['started'] or 'nothing'}; "
                  f"already started {answer['already_started'] or 'nothing'}; skipped {answer['skipped'] or 'nothing'}")
