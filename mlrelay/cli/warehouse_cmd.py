"""`mlrelay warehouse init|query`: the predictions table, through the Redshift Data API."""

from __future__ import annotations

from typing import Any

import typer

from chalicelib.inference.warehouse_sql import (
    PredictionsTable,
    UnsafeSqlValueError,
    columns_sql,
    create_table_sqls,
    migration_sqls,
)
from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail
from mlrelay.local.state_file import StackInfo
from mlrelay.warehouse_client import WarehouseQueryError, connection_from, result_table, run_statement

app = typer.Typer(help="The predictions warehouse (Redshift; the local warehouse on the embedded stack).", no_args_is_help=True)


@app.command()
def init() -> None:
    """Create the predictions schema and its tables: predictions, model_monitoring, explanations (idempotent)."""
    info, client = connect()
    schema, table = info.outputs["PredictionsTableName"].split(".")
    statement = _run(client("redshift-data"), info, sqls=create_table_sqls(PredictionsTable(schema, table)))
    console.print(f"[green]✓[/] {schema}.{table} is ready ({len(statement.get('SubStatements', []))} statements)")


@app.command()
def migrate() -> None:
    """Bring a predictions table from mlrelay's first layout (classification only) to this one, rows and all.

    The first layout required predicted_label and had no predicted_value. Redshift cannot drop NOT NULL in
    place, so the table is copied into the new layout in one transaction and the old one kept as <table>_v1.
    """
    info, client = connect()
    data = client("redshift-data")
    target = PredictionsTable(*info.outputs["PredictionsTableName"].split("."))
    sql, parameters = columns_sql(target)
    listed = _run(data, info, sql=sql, parameters=parameters)
    columns = [str(row[0]) for row in result_table(data, listed["Id"])[1]] if listed.get("HasResultSet") else []
    if not columns:
        fail(f"there is no table {target.qualified}: create it with `mlrelay warehouse init`")
    try:
        sqls = migration_sqls(target, columns)
    except UnsafeSqlValueError as err:
        fail(str(err))
    if not sqls:
        console.print(f"[green]✓[/] {target.qualified} already has this layout; nothing to do")
        return
    for sql in sqls:
        console.print(f"  {sql[:110]}{'…' if len(sql) > 110 else ''}")
    _run(data, info, sqls=sqls)
    console.print(f"[green]✓[/] {target.qualified} migrated; the old table is kept as {target.schema}.{target.table}_v1")


@app.command()
def query(
    sql: str = typer.Argument(..., help="One SQL statement, e.g. \"SELECT mode, COUNT(*) FROM mlrelay.predictions GROUP BY 1\""),
) -> None:
    """Run one statement through the Data API and print its result as a table."""
    from rich.table import Table

    info, client = connect()
    data = client("redshift-data")
    statement = _run(data, info, sql=sql)
    if not statement.get("HasResultSet"):
        console.print(f"done: {statement.get('ResultRows', 0)} rows affected")
        return
    columns, rows = result_table(data, statement["Id"])
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)
    console.print(f"{len(rows)} rows")


def _run(
    data: Any, info: StackInfo, sql: str | None = None, sqls: list[str] | None = None, parameters: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    try:
        with console.status("waiting for the warehouse…"):
            return run_statement(data, connection_from(info.outputs), sql=sql, sqls=sqls, parameters=parameters)
    except WarehouseQueryError as err:
        fail(str(err))
