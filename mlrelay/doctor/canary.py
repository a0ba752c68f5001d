"""`mlrelay doctor --canary`: a tiny built-in model trained, and 10 rows predicted into a scratch table, through
the same drops a data scientist makes; each step's time and the runs' cost estimate printed; then everything it
made removed (the Step Functions executions stay in their history, which AWS keeps 90 days).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from chalicelib.aws.preferences import preferences_key
from chalicelib.aws.watermarks import prediction_runs_key, row_count_key
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.naming import on_demand_run_id, package_group_name, training_run_id, upload_identity
from chalicelib.shared.pipeline_runs import run_prefix
from mlrelay.doctor.expected import ExpectedStack
from mlrelay.local.state_file import StackInfo
from mlrelay.runs import RunDetail, RunNotFoundError, show_run
from mlrelay.warehouse_client import WarehouseQueryError, connection_from, result_table, run_statement

TRAINING_ROWS, CATALOGUE_ROWS = 300, 10
RUN_TIMEOUT_SECONDS = 45 * 60  # a training run on AWS provisions instances: minutes, not seconds


@dataclass
class Canary:
    stage: str
    bucket: str
    schema: str
    runs_table: str

    @property
    def model(self) -> str:
        return f"mlrelay-canary-{self.stage}"

    @property
    def data_prefix(self) -> str:
        return f"data/canary/{self.stage}/"

    @property
    def config_key(self) -> str:
        return f"configs/train/{self.model}.json"

    @property
    def request_key(self) -> str:
        return f"configs/infer/{self.model}.json"

    @property
    def scratch(self) -> PredictionsTable:
        return PredictionsTable(self.schema, f"canary_{self.stage}")

    def config(self) -> dict[str, Any]:
        return {
            "schema_version": 1, "model_name": self.model, "task": "multiclass_classification",
            "model": {"type": "sklearn.logistic_regression"},
            "data": {"uri": f"s3://{self.bucket}/{self.data_prefix}train.csv", "label_column": "package_type",
                     "feature_columns": ["length_cm", "width_cm", "height_cm", "weight_g", "fragile", "price"]},
            "training": {"instance_type": "ml.m5.large", "max_runtime_minutes": 30},
            "approval": {"threshold": 0.0},
            "inference": {"daily": False, "monthly": False},
            "notifications": {"slack": False, "sns": False},
        }


class CanaryError(RuntimeError):
    """The canary could not go on; the message says where and what to look at."""


def run_canary(client: Callable[[str], Any], info: StackInfo, expected: ExpectedStack, console: Console) -> bool:
    """True if the model trained, was approved and its 10 predictions reached the scratch table."""
    canary = Canary(expected.stage, expected.bucket, info.outputs["PredictionsTableName"].split(".")[0], expected.runs_table)
    say(console, f"\ncanary: model {canary.model}, scratch table {canary.scratch.qualified}")
    run_ids: list[str] = []  # known before each run starts, so that cleanup finds what a failure left
    try:
        return _train_and_predict(client, info, canary, run_ids, console)
    except (CanaryError, WarehouseQueryError) as err:
        say(console, f"[red]✗[/] canary: {err}")
        return False
    finally:
        _stop_running(client, info, run_ids, console)
        _clean_up(client, info, canary, run_ids, console)


def _train_and_predict(client: Callable[[str], Any], info: StackInfo, canary: Canary, run_ids: list[str], console: Console) -> bool:
    s3, data, connection = client("s3"), client("redshift-data"), connection_from(info.outputs)
    _upload_tables(s3, canary)
    run_statement(data, connection, sqls=create_table_sqls(canary.scratch), timeout=120)
    put = s3.put_object(Bucket=canary.bucket, Key=canary.config_key, Body=json.dumps(canary.config()).encode())
    run_ids.append(training_run_id(canary.bucket, canary.config_key, put.get("VersionId"), put["ETag"]))
    training = _wait(client, info, canary, run_ids[-1], (canary.config_key, put.get("VersionId")), console)
    if training.summary.status != "SUCCEEDED":
        return _failed(console, training)
    request = {"schema_version": 1, "model_name": canary.model, "catalogue_uri": f"s3://{canary.bucket}/{canary.data_prefix}catalogue.csv",
               "predictions_table": canary.scratch.qualified}
    put = s3.put_object(Bucket=canary.bucket, Key=canary.request_key, Body=json.dumps(request).encode())
    run_ids.append(on_demand_run_id(canary.model, canary.bucket, canary.request_key, upload_identity(put.get("VersionId"), put["ETag"])))
    inference = _wait(client, info, canary, run_ids[-1], (canary.request_key, put.get("VersionId")), console)
    if inference.summary.status != "SUCCEEDED":
        return _failed(console, inference)
    rows = _rows_loaded(data, connection, canary.scratch, run_ids[-1])
    say(console, ("[green]✓[/]" if rows == CATALOGUE_ROWS else "[red]✗[/]") + f" {rows} of {CATALOGUE_ROWS} predictions "
        f"in {canary.scratch.qualified}")
    _print_cost(client, info, [training, inference], console)
    return rows == CATALOGUE_ROWS


def _upload_tables(s3: Any, canary: Canary) -> None:
    from mlrelay.synthetic import synthesize

    train = synthesize(TRAINING_ROWS, seed=7)
    catalogue = synthesize(CATALOGUE_ROWS, seed=8).drop(columns=["package_type"])
    for name, frame in (("train.csv", train), ("catalogue.csv", catalogue)):
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        s3.put_object(Bucket=canary.bucket, Key=f"{canary.data_prefix}{name}", Body=buffer.getvalue().encode())


def _wait(
    client: Callable[[str], Any], info: StackInfo, canary: Canary, run_id: str, dropped: tuple[str, str | None], console: Console,
) -> RunDetail:
    """The run once it has ended; CanaryError if the trigger refused the drop or the run outlasts RUN_TIMEOUT_SECONDS."""
    started = time.monotonic()
    with console.status(f"canary: waiting for run {run_id}…") as status:
        while time.monotonic() - started < RUN_TIMEOUT_SECONDS:
            try:
                detail = show_run(client("stepfunctions"), info.state_machines, run_id)
            except RunNotFoundError:
                detail = None
                _refused(client("s3"), canary.bucket, *dropped)
            if detail is not None and detail.summary.status != "RUNNING":
                break
            if detail is not None and detail.steps:
                status.update(f"canary: run {run_id}: {detail.steps[-1].name} ({time.monotonic() - started:.0f} s)")
            time.sleep(1)
        else:
            raise CanaryError(f"run {run_id} did not end within {RUN_TIMEOUT_SECONDS // 60} minutes: see `mlrelay runs show {run_id}`")
    took = (detail.summary.stopped - detail.summary.started).total_seconds() if detail.summary.stopped else 0.0
    say(console, f"canary: {detail.summary.workflow} run {run_id} {detail.summary.status} in {took:.1f} s")
    for step in detail.steps:
        if step.state_type == "Task" and step.exited:
            say(console, f"  {step.name:<28} {(step.exited - step.entered).total_seconds():7.1f} s  {step.status}")
    return detail


def _refused(s3: Any, bucket: str, key: str, version_id: str | None) -> None:
    """CanaryError with the trigger's report, if it refused this version of the drop."""
    from chalicelib.intake.plan import ERROR_REPORT_SUFFIX

    try:
        report = json.loads(s3.get_object(Bucket=bucket, Key=key + ERROR_REPORT_SUFFIX)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return
    if report.get("version_id") == version_id:
        problems = "; ".join(f"{p['path']}: {p['message']}" for p in report.get("problems", []))
        raise CanaryError(f"the trigger refused s3://{bucket}/{key}: {problems}")


def _failed(console: Console, detail: RunDetail) -> bool:
    say(console, f"[red]✗[/] canary run {detail.summary.run_id} {detail.summary.status}: {detail.error}: {detail.cause} "
                  f"[dim]→[/] `mlrelay runs show {detail.summary.run_id}`")
    return False


def _rows_loaded(data: Any, connection: dict[str, str], table: PredictionsTable, run_id: str) -> int:
    # The table name is a checked identifier; the run id a parameter.
    statement = run_statement(data, connection, f"SELECT COUNT(*) FROM {table.qualified} WHERE run_id = :run_id",  # nosec B608
                              parameters=[{"name": "run_id", "value": run_id}], timeout=60)
    return int(result_table(data, statement["Id"])[1][0][0])


def _print_cost(client: Callable[[str], Any], info: StackInfo, details: list[RunDetail], console: Console) -> None:
    from mlrelay.costs import estimate, prices
    from mlrelay.run_usage import run_usage

    total = 0.0
    for detail in details:
        function = info.functions["training_step" if detail.summary.workflow == "training" else "inference_step"]
        total += estimate(run_usage(detail, client, function), prices()).total
    say(console, f"canary: the two runs cost about ${total:.4f} on AWS ({prices()['region']} list prices, mlrelay/prices.json)")


def _stop_running(client: Callable[[str], Any], info: StackInfo, run_ids: list[str], console: Console) -> None:
    """A canary run still going (a timeout, Ctrl-C) is stopped first, or it would write again what cleanup removes."""
    for run_id in run_ids:
        try:
            detail = show_run(client("stepfunctions"), info.state_machines, run_id)
        except RunNotFoundError:
            continue
        if detail.summary.status == "RUNNING":
            client("stepfunctions").stop_execution(executionArn=detail.summary.execution_arn, error="CanaryStopped",
                                                   cause="mlrelay doctor --canary stopped its run to clean up")
            say(console, f"canary: stopped run {run_id}")


def _clean_up(client: Callable[[str], Any], info: StackInfo, canary: Canary, run_ids: list[str], console: Console) -> None:
    """Everything the canary made, each part tried whatever the others did, and what could not be removed said."""
    removed: list[str] = []
    left: list[str] = []

    def deleting(prefix: str) -> Callable[[], object]:
        return lambda: _delete_versions(client("s3"), canary.bucket, prefix)

    runs = [f"{run_prefix(canary.model, run_id)}/" for run_id in run_ids]
    parts: list[tuple[str, Callable[[], object]]] = [
        (f"objects under {prefix}", deleting(prefix)) for prefix in (canary.data_prefix, canary.config_key, canary.request_key, *runs)
    ]
    parts += [
        (f"the model {canary.model}'s records", lambda: _forget_model(client, info, canary, run_ids)),
        (f"its registry group {package_group_name(canary.stage, canary.model)}", lambda: _forget_registry(client("sagemaker"), canary)),
        (canary.scratch.qualified, lambda: run_statement(client("redshift-data"), connection_from(info.outputs), sqls=[
            f"DROP TABLE IF EXISTS {canary.scratch.qualified}",
            # Checked identifiers; the model name is the canary's own (bandit B608).
            f"DELETE FROM {canary.schema}.model_monitoring WHERE model_name = '{canary.model}'",  # nosec B608
        ], timeout=120)),
    ]
    for what, remove in parts:
        try:
            remove()
            removed.append(what)
        except Exception as err:  # best effort: one part's failure must not keep the others
            left.append(f"{what} ({type(err).__name__}: {err})")
    say(console, f"canary: cleaned up {len(removed)} of {len(parts)} parts (objects, the model's records, its registry group, "
        f"{canary.scratch.qualified}); its executions stay in the Step Functions history")
    for what in left:
        say(console, f"[yellow]canary: could not remove {what}: remove it by hand[/]")


def _delete_versions(s3: Any, bucket: str, prefix: str) -> int:
    count = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start:start + 1000], "Quiet": True})
        count += len(doomed)
    return count


def _forget_model(client: Callable[[str], Any], info: StackInfo, canary: Canary, run_ids: list[str]) -> None:
    dynamodb = client("dynamodb")
    models = info.outputs["ModelsTableName"]
    pages = dynamodb.get_paginator("query").paginate(
        TableName=models, KeyConditionExpression="model_name = :name", ExpressionAttributeValues={":name": {"S": canary.model}},
        ConsistentRead=True)
    items = [item for page in pages for item in page["Items"]]
    for item in items:
        dynamodb.delete_item(TableName=models, Key={"model_name": item["model_name"], "version_key": item["version_key"]})
    versions = {item["version"]["N"] for item in items if "version" in item}
    # the runs' ledger items, the model's notification settings, and what an inference run records beside them
    ledger = [*run_ids, preferences_key(canary.model), row_count_key(canary.model, "on_demand"),
              *(prediction_runs_key(canary.model, int(v)) for v in versions)]
    for key in ledger:
        dynamodb.delete_item(TableName=canary.runs_table, Key={"run_id": {"S": key}})


def _forget_registry(sagemaker: Any, canary: Canary) -> None:
    group = package_group_name(canary.stage, canary.model)
    try:
        for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
            for package in page["ModelPackageSummaryList"]:
                sagemaker.delete_model_package(ModelPackageName=package["ModelPackageArn"])
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    except sagemaker.exceptions.ClientError as err:
        if "does not exist" not in str(err):
            raise


def say(console: Console, text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)
