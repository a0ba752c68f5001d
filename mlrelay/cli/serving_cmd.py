"""`mlrelay predict` and `mlrelay endpoints list`: real-time predictions from approved models' endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

endpoints_app = typer.Typer(help="The stage's real-time endpoints: the version each serves, its status and cost.",
                            no_args_is_help=True)


def predict_command(
    model_name: str = typer.Argument(..., help="A model (or model family) with serving.endpoint in its config."),
    data: Path | None = typer.Option(None, "--data", help="A CSV file with a header naming the feature columns."),
    row: str | None = typer.Option(None, "--row", help='One row as JSON, e.g. \'{"weight_g": 120, "fragile": 1}\'.'),
    segment: str | None = typer.Option(None, "--segment", help="A family's segment value (e.g. DE): its model answers."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Each row's prediction from the model's endpoint (its approved version), sent as batch inference sends rows."""
    from rich.table import Table

    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.serving_client import (
        PredictError,
        parsed,
        predictions,
        readable,
        requests_for,
        row_from_json,
        rows_from_csv,
        target_for,
    )

    if (data is None) == (row is None):
        fail("give the rows to predict with --data FILE.csv or --row JSON (one of them)")
    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    try:
        rows = rows_from_csv(data) if data is not None else [row_from_json(str(row))]
        target = target_for(versions, model_name, segment)
        found = predictions(client("sagemaker-runtime"), target, requests_for(versions, client("s3"), target, rows), len(rows))
    except PredictError as err:
        fail(str(err))
    if as_json:
        print(json.dumps({"endpoint": target.endpoint, "model": target.model_name, "version": target.version,
                          "predictions": [parsed(line) for line in found]}, indent=2))
        return
    console.print(f"{target.endpoint}: {target.model_name} v{target.version}"
                  + (f" ({target.target_model})" if target.target_model else ""))
    table = Table("row", "prediction", box=None, padding=(0, 2))
    for number, prediction in enumerate(found, start=1):
        table.add_row(str(number), readable(prediction))
    console.print(table)


@endpoints_app.command("list")
def list_command() -> None:
    """Each endpoint of the stage: the version it serves (each segment's, for a family), its status and cost."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.endpoints_view import endpoint_rows, row_text

    info, client = connect()
    rows = endpoint_rows(ModelVersions(info.outputs["ModelsTableName"], client("dynamodb")), client("sagemaker"), info.stage)
    if not rows:
        console.print("no endpoints: a config with serving.endpoint gets one when a version is approved (docs/serving.md)")
        return
    for row in rows:
        console.print(row_text(row), highlight=False)
