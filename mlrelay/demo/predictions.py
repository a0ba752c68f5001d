"""The demo's inference sections: daily and monthly predictions in the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.naming import scheduled_run_id
from mlrelay.demo.checks import Checks, finished_run
from mlrelay.local.stack import EmbeddedStack
from mlrelay.runs import list_runs
from mlrelay.warehouse_client import connection_from, result_table, run_statement

MODEL = "packaging-type"
DAILY_AT = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
MONTHLY_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
COUNTS_SQL = "SELECT mode, predicted_label, COUNT(*) AS items FROM {table} GROUP BY mode, predicted_label ORDER BY mode, predicted_label"


def predictions(console: Console, checks: Checks, stack: EmbeddedStack, catalogue_rows: int) -> None:
    table = stack.info.outputs["PredictionsTableName"]
    console.print(f"\n[bold]6. Predictions[/] into {table} through the Redshift Data API (the local warehouse is DuckDB)")
    data, connection = stack.client("redshift-data"), connection_from(stack.info.outputs)
    schema, name = table.split(".")
    run_statement(data, connection, sqls=create_table_sqls(PredictionsTable(schema, name)))
    console.print("   mlrelay warehouse init: table ready")

    daily = _scheduled(checks, stack, "daily", DAILY_AT)
    if daily:
        window = daily["settings"]["window"]
        checks.check(
            daily["verified"]["rows_loaded"] < catalogue_rows,
            f"daily run loaded {daily['verified']['rows_loaded']} rows: only the items added from {window['since']} "
            f"to before {window['until']}",
        )
    monthly = _scheduled(checks, stack, "monthly", MONTHLY_AT)
    if monthly:
        checks.check(
            monthly["verified"]["rows_loaded"] == catalogue_rows,
            f"monthly run loaded {monthly['verified']['rows_loaded']:,} rows: the whole catalogue",
        )
    before = _counts(console, stack, table, show=True)

    console.print("\n   the daily schedule again, as EventBridge may deliver it twice:")
    stack.fire_schedule(f"mlrelay-{stack.stage}-inference-daily", DAILY_AT)
    stack.runtime.wait_idle()
    runs = [r for r in list_runs(stack.client("stepfunctions"), stack.info.state_machines) if r.workflow == "inference"]
    checks.check(len(runs) == 2, f"still {len(runs)} inference runs (one daily, one monthly)")
    after = _counts(console, stack, table, show=False)
    checks.check(after == before, "counts unchanged: no duplicate rows")


def _scheduled(checks: Checks, stack: EmbeddedStack, mode: str, at: datetime) -> dict | None:
    stack.fire_schedule(f"mlrelay-{stack.stage}-inference-{mode}", at)
    run_id = scheduled_run_id(MODEL, mode, at)
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    ok = detail is not None and detail.summary.status == "SUCCEEDED"
    took = (detail.summary.stopped - detail.summary.started).total_seconds() if detail and detail.summary.stopped else 0
    status = detail.summary.status if detail else "never started"
    checks.check(ok, f"{mode} schedule at {at:%Y-%m-%d %H:%M}Z: run {run_id} {status} in {took:.1f}s")
    return detail.output if ok and detail is not None else None


def _counts(console: Console, stack: EmbeddedStack, table: str, show: bool) -> list[list]:
    data = stack.client("redshift-data")
    statement = run_statement(data, connection_from(stack.info.outputs), sql=COUNTS_SQL.format(table=table))
    columns, rows = result_table(data, statement["Id"])
    if show:
        console.print("   mlrelay warehouse query \"SELECT mode, predicted_label, COUNT(*) ... GROUP BY ...\"")
        rendered = Table(*columns, box=None, padding=(0, 2))
        for row in rows:
            rendered.add_row(*(str(v) for v in row))
        console.print(rendered)
    return rows
