"""The demo's failure at 3 am: one injected database error, the one alert it makes, and the resume."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from chalicelib.shared.naming import scheduled_run_id
from mlrelay.demo.checks import Checks, finished_run, wait_for
from mlrelay.demo.predictions import DAILY_AT, MODEL
from mlrelay.local.stack import EmbeddedStack
from mlrelay.resume_client import invoke, skipped_steps, wait_for_execution
from mlrelay.tables import steps_table

FAILING_DAY = DAILY_AT + timedelta(days=1)
DATABASE_ERROR = "ERROR: 1023 DETAIL: Serializable isolation violation on table - 100345, transactions forming the cycle are: 2841, 2853"


def injected_failure(console: Console, checks: Checks, stack: EmbeddedStack) -> str | None:
    """Tomorrow's daily run meets a database error at the load; returns its run id."""
    run_id = scheduled_run_id(MODEL, "daily", FAILING_DAY)
    console.print("\n[bold]9. A failure at 3 am[/]: the next daily run, with the warehouse refusing its load once")
    stack.faults.refuse_statement("COPY stage_", DATABASE_ERROR, run_id=run_id)
    stack.fire_schedule(f"mlrelay-{stack.stage}-inference-daily", FAILING_DAY)
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    if not checks.check(detail is not None and detail.summary.status == "FAILED", f"run {run_id} failed") or detail is None:
        return None
    console.print(steps_table(detail))
    posts = wait_for(lambda: [m.message for m in stack.slack.messages if run_id in str(m.message)], timeout_seconds=15) or []
    checks.check(len(posts) == 1, f"one alert: {posts[0]['text'] if posts else 'none'}")
    text = str(posts[0]) if posts else ""
    checks.check("Serializable isolation violation" in text, "it says why: the database's own error")
    checks.check(f"mlrelay runs resume {run_id}" in text, f"and how to resume: mlrelay runs resume {run_id}")
    return run_id


def resume_failed_run(console: Console, checks: Checks, stack: EmbeddedStack, run_id: str) -> None:
    console.print(f"\n   mlrelay runs resume {run_id}")
    copies_before = _copies(stack, run_id)
    answer = invoke(stack.client("lambda"), stack.info.functions["resume_run"], {"run_id": run_id})
    said = answer.get("message", "the step that failed")
    if not checks.check(answer.get("outcome") == "resumed", f"resumed at {answer.get('from_state')}: {said}"):
        return
    sfn = stack.client("stepfunctions")
    skipped = skipped_steps(sfn, answer["previous_execution_arn"], answer["from_state"])
    console.print(f"   skipped, done in the failed attempt: {', '.join(skipped)}")
    status = wait_for_execution(sfn, answer["execution_arn"], timeout_seconds=120)
    stack.wait_idle()
    checks.check(status == "SUCCEEDED", f"the resumed run {status}")
    pipeline_steps = stack.pipelines.step_runs_for(run_id)
    checks.check(len(pipeline_steps) == len(set(pipeline_steps)), f"pipeline steps ran once each: {', '.join(pipeline_steps)}")
    table = stack.info.outputs["PredictionsTableName"]
    # The demo's own run id (bandit B608).
    (rows,) = stack.warehouse.query(f"SELECT COUNT(*) FROM {table} WHERE run_id = '{run_id}'")[0]  # nosec B608
    copies = _copies(stack, run_id) - copies_before
    checks.check(copies == 1 and rows > 0, f"the load ran again once: {rows} rows in {table}, loaded once")


def _copies(stack: EmbeddedStack, run_id: str) -> int:
    return sum(1 for sql in stack.warehouse.executed if sql.startswith("COPY stage_") and run_id in sql)
