"""`mlrelay monitor show RUN`: an inference run's checks against its model's training baseline."""

from __future__ import annotations

from pathlib import Path

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

app = typer.Typer(help="Data-quality, drift and attribution checks of inference runs (Model Monitor's formats).",
                  no_args_is_help=True)


@app.command()
def show(
    run_id: str = typer.Argument(..., help="An inference run id (`mlrelay runs list` shows them)."),
    save: Path | None = typer.Option(
        None, "--save", help="Where to save the HTML report (default: ./monitoring-RUN.html); - to skip it.",
    ),
) -> None:
    """The run's drift table and violations, and its HTML report saved locally (distributions, drift, SHAP ranks)."""
    from rich.table import Table

    from mlrelay.monitoring_results import CHECK_NAMES, NoResultsError, check_rows, monitoring_prefix, report_html
    from mlrelay.monitoring_results import summary as read_summary
    from mlrelay.runs import RunNotFoundError, run_model

    info, client = connect()
    try:
        model_name = run_model(client("stepfunctions"), info.state_machines, run_id)
    except RunNotFoundError as err:
        fail(str(err))
    s3, bucket = client("s3"), info.outputs["ConfigBucketName"]
    try:
        summary = read_summary(s3, bucket, model_name, run_id)
        rows = sorted(check_rows(s3, bucket, model_name, run_id), key=lambda r: (r["violated"] != "1", r["feature"]))
    except NoResultsError as err:
        fail(f"no monitoring results for {run_id} ({err}): is it an inference run whose pipeline finished? "
             "`mlrelay runs list` shows the runs")
    if summary.get("baseline") == "missing":
        console.print(f"{run_id}: not checked: model version v{summary.get('model_version')} has no monitoring baseline "
                      "(it was trained before mlrelay kept one); retrain it to get one")
        return
    ndcg = summary.get("ndcg")
    console.print(
        f"[bold]{summary['model_name']} v{summary['model_version']}[/], {summary['mode']} run {run_id}: "
        f"{summary['rows']:,} items against a baseline of {summary['baseline_rows']:,}; "
        f"{summary['violations']} violation(s), {summary['drifted_count']} feature(s) drifted"
        + (f"; SHAP ranking NDCG {ndcg:.3f} (alert below {summary['ndcg_threshold']:g})" if ndcg is not None else "")
    )
    table = Table(box=None, padding=(0, 1))
    table.add_column("feature", overflow="fold")
    for column in ("check", "test", "value", "threshold", "verdict"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        value = f"p={_number(row['p_value'])}" if row["p_value"] else _number(row["statistic"])
        table.add_row(row["feature"], CHECK_NAMES.get(row["check_type"], row["check_type"]), row["method"], value,
                      _number(row["threshold"]), "[red]violated[/]" if row["violated"] == "1" else "ok")
    console.print(table)
    for row in rows:
        if row["description"]:
            console.print(f"{row['feature']}: {row['description']}", highlight=False)
    top = summary.get("top_features", {})
    if top.get("training"):
        console.print(f"top SHAP features: training {', '.join(top['training'])}; now {', '.join(top.get('now', []))}")
    if str(save) == "-":
        return
    target = save or Path(f"monitoring-{run_id}.html")
    try:
        target.write_bytes(report_html(s3, bucket, model_name, run_id))
    except NoResultsError as err:
        fail(f"no monitoring report for {run_id}: {err} (under s3://{bucket}/{monitoring_prefix(model_name, run_id)})")
    console.print(f"report: {target} (from {summary['report_uri']})")


def _number(text: str) -> str:
    return f"{float(text):.4g}" if text else ""
