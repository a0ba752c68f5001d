"""The demo's failure at 3 am: one injected database error, and the one alert it makes."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from chalicelib.inference_plan import scheduled_run_id
from mlrelay.demo.checks import Checks, finished_run, wait_for
from mlrelay.demo.predictions import DAILY_AT, MODEL
from mlrelay.local.stack import EmbeddedStack
from mlrelay.tables import steps_table

FAILING_DAY = DAILY_AT + timedelta(days=1)
DATABASE_ERROR = "ERROR: 1023 DETAIL: Serializable isolation violation on table - 100345, transactions forming the cycle are: 2841, 2853"


def injected_failure(console: Console, checks: Checks, stack: EmbeddedStack) -> str | None:
    """Tomorrow's daily run meets a database error at the load; returns its run id."""
    run_id = scheduled_run_id(MODEL, "daily", FAILING_DAY)
    console.print(f"\n[bold]7. A failure at 3 am[/]: the next daily run, with the warehouse refusing its load once")
    stack.warehouse.refuse("COPY", DATABASE_ERROR, run_id=run_id)
    stack.fire_schedule(f"mlrelay-{stack.stage}-inference-daily", FAILING_DAY)
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    if not checks.check(detail is not None and detail.summary.status == "FAILED", f"run {run_id} failed"):
        return None
    console.print(steps_table(detail))
    posts = wait_for(lambda: [m.message for m in stack.slack.messages if run_id in str(m.message)], timeout_seconds=15) or []
    checks.check(len(posts) == 1, f"one alert: {posts[0]['text'] if posts else 'none'}")
    text = str(posts[0]) if posts else ""
    checks.check("Serializable isolation violation" in text, "it says why: the database's own error")
    checks.check(f"mlrelay runs resume {run_id}" in text, f"and how to resume: mlrelay runs resume {run_id}")
    return run_id
