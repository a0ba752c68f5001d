"""`mlrelay explain MODEL ITEM_ID`: why the latest prediction for an item was made, from the warehouse."""

from __future__ import annotations

import json

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail


def explain_command(
    model_name: str = typer.Argument(..., help="A model name from `mlrelay models list`."),
    item_id: str = typer.Argument(..., help="An item's id, as in the predictions table's item_id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """The latest explanation of an item's prediction: its top features by SHAP value, with their values (a config
    with monitoring.explain_predictions: K writes them)."""
    from rich.table import Table

    from chalicelib.inference.warehouse_sql import PredictionsTable, explanation_sql
    from mlrelay.warehouse_client import WarehouseQueryError, connection_from, result_table, run_statement

    info, client = connect()
    data = client("redshift-data")
    sql, parameters = explanation_sql(PredictionsTable(*info.outputs["PredictionsTableName"].split(".")), model_name, item_id)
    try:
        statement = run_statement(data, connection_from(info.outputs), sql=sql, parameters=parameters)
    except WarehouseQueryError as err:
        fail(f"{err} (an explanations table exists once a run with monitoring.explain_predictions has loaded)")
    columns, rows = result_table(data, statement["Id"])
    found = [dict(zip(columns, row, strict=True)) for row in rows]
    if as_json:
        print(json.dumps(found, indent=2, default=str))
        return
    if not found:
        fail(f"no explanation of {model_name}'s prediction for item {item_id!r}: set monitoring.explain_predictions in its "
             "config, or check the id (`mlrelay warehouse query` reads the predictions)")
    first = found[0]
    predicted = f" (predicted {first['explained']})" if first.get("explained") else ""
    console.print(f"[bold]{model_name}[/] v{first['model_version']}, item {item_id}{predicted}: run {first['run_id']}, "
                  f"{str(first['explained_at'])[:19]}")
    table = Table("rank", "feature", "value", "SHAP value", box=None, padding=(0, 2))
    for row in found:
        table.add_row(str(row["feature_rank"]), row["feature"], str(row["feature_value"] or ""), f"{float(row['attribution']):+.4f}")
    console.print(table)
