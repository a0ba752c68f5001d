"""`mlrelay models lineage|reproduce` and `mlrelay lineage data`: where a version came from, which runs read a
table, and a version retrained from exactly what it was trained on."""

from __future__ import annotations

import json
from typing import Any

import typer

from mlrelay.cli.connection import connect, target
from mlrelay.cli.output import console, fail

app = typer.Typer(help="Lineage: which model versions trained on a table, and which inference runs read it.",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _version(versions: Any, name: str, version: int | None) -> Any:
    """`version` of `name`, or its approved version, or its newest."""
    if version is not None:
        record = versions.version(name, version)
        if record is None:
            fail(f"{name} has no version {version}; `mlrelay models show {name}` lists them")
        return record
    records = versions.versions(name)
    if not records:
        fail(f"no model named {name!r}; `mlrelay models list` shows the names")
    return versions.approved(name) or max(records, key=lambda r: r.version)


def lineage_command(
    name: str = typer.Argument(..., help="A model name from `mlrelay models list`."),
    version: int | None = typer.Argument(None, help="A version number [default: the approved one, else the newest]."),
    sagemaker: bool = typer.Option(False, "--sagemaker", help="Also read the version's SageMaker ML Lineage Tracking "
                                   "entities back and check they match the record; exits 1 when they do not."),
    as_json: bool = JSON,
) -> None:
    """A version's lineage: the exact table (every file's S3 version), code (SHA-256), images and config it came
    from, and the decision on it."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.lineage_view import lineage_tree

    info, client = connect()
    record = _version(ModelVersions(info.outputs["ModelsTableName"], client("dynamodb")), name, version)
    check = _sagemaker_check(info.stage, client("sagemaker"), record) if sagemaker else None
    if as_json:
        print(json.dumps({"model_name": record.model_name, "version": record.version, "status": record.status,
                          "lineage": record.lineage, "history": record.history, "sagemaker": check}, indent=2, default=str))
    else:
        console.print(lineage_tree(record))
        if check is not None:
            console.print(f"SageMaker lineage: context {check['context']}, {len(check['associations'])} associations, "
                          + ("as recorded" if not check["differences"] else "differs from the record:"))
            for difference in check["differences"]:
                console.print(f"   {difference}")
    if check is not None and check["differences"]:
        raise typer.Exit(1)


def _sagemaker_check(stage: str, sagemaker: Any, record: Any) -> dict[str, Any]:
    from chalicelib.aws.errors import AwsError
    from chalicelib.aws.sagemaker_lineage import LineageTracking
    from mlrelay.lineage_view import sagemaker_differences

    if not record.lineage:
        fail(f"{record.model_name} v{record.version} was registered before mlrelay kept lineage: SageMaker has none of it")
    try:
        read = LineageTracking(stage, sagemaker).read(record.model_name, record.version)
    except AwsError as err:
        fail(f"cannot read {record.model_name} v{record.version}'s lineage from SageMaker: {err}")
    return {**read, "differences": sagemaker_differences(record.lineage, read)}


@app.command("data")
def data_command(
    uri: str = typer.Argument(..., help="A table's S3 URI, as a config's data.uri or inference.catalogue_uri names it."),
    version_id: str | None = typer.Option(None, "--version-id", help="Only the runs that read this S3 object version."),
    as_json: bool = JSON,
) -> None:
    """The model versions trained on a table and the inference runs that read it, oldest first."""
    from mlrelay.lineage_view import readers_table, runs_that_read

    if not uri.startswith("s3://"):
        fail(f"{uri!r} is no S3 URI: name the table as s3://bucket/key", code=2)
    info, client = connect()
    runs = runs_that_read(client("s3"), info.outputs["ConfigBucketName"], uri, version_id)
    if as_json:
        print(json.dumps(runs, indent=2))
        return
    if not runs:
        console.print(f"no run has read {uri}{f' version {version_id}' if version_id else ''} since mlrelay kept lineage")
        return
    console.print(readers_table(runs))


def reproduce_command(
    name: str = typer.Argument(..., help="A model name from `mlrelay models list`."),
    version: int = typer.Argument(..., help="The version to retrain."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the run and compare its metrics."),
    timeout_minutes: int = typer.Option(180, min=1, help="Stop waiting (the run goes on) after this long."),
    as_json: bool = JSON,
) -> None:
    """Retrain a version from exactly its recorded inputs (the pinned copies of its table and code, its config
    version) as a new run, and print its metrics next to the original's. It is judged like any run, but a passing one
    waits for a person (PendingManualApproval): a reproduction never replaces the approved version by itself."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.reproduce import NotReproducibleError, start_reproduction

    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    record = _version(versions, name, version)
    try:
        run_id, arn = start_reproduction(client("stepfunctions"), info.state_machines, record)
    except NotReproducibleError as err:
        fail(str(err))
    if not as_json:
        console.print(f"started run {run_id}: {name} v{version} retrained from its recorded table and code")
    if not wait:
        if as_json:
            print(json.dumps({"run_id": run_id, "status": "RUNNING"}))
        return
    status = _wait(client("stepfunctions"), arn, run_id, timeout_minutes * 60, quiet=as_json)
    _report(versions, record, run_id, status, as_json)


def _wait(sfn: Any, arn: str, run_id: str, timeout: float, quiet: bool) -> str:
    from contextlib import nullcontext

    from mlrelay.resume_client import ResumeError, wait_for_execution

    try:
        with nullcontext() if quiet else console.status(f"run {run_id} is training…", spinner="dots"):
            return wait_for_execution(sfn, arn, timeout_seconds=timeout)
    except ResumeError:
        fail(f"run {run_id} still runs after the timeout; `mlrelay runs show {run_id}{target.cli_flags}` follows it")


def _report(versions: Any, original: Any, run_id: str, status: str, as_json: bool) -> None:
    from mlrelay.lineage_view import comparison_table, metric_comparison

    again = versions.version_for_run(original.model_name, run_id)
    if status != "SUCCEEDED" or again is None:
        fail(f"run {run_id} ended {status} without a version; `mlrelay runs show {run_id}{target.cli_flags}` says why")
    rows = metric_comparison(original.metrics, again.metrics)
    if as_json:
        print(json.dumps({"run_id": run_id, "original": {"version": original.version},
                          "reproduced": {"version": again.version, "status": again.status}, "metrics": rows}, indent=2))
        return
    console.print(comparison_table(rows, original.version, again.version))
    same = sum(row["same"] for row in rows)
    console.print(f"v{again.version} ({again.status}): {same} of {len(rows)} metrics within the original's standard deviation")
