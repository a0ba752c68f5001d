"""The demo's lineage section: where v1 came from, who read its table, v1 retrained from what it read, and why one
item's prediction was made."""

from __future__ import annotations

from rich.console import Console

from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.aws.sagemaker_lineage import LineageTracking
from chalicelib.shared.naming import scheduled_run_id
from mlrelay.demo.checks import Checks, finished_run
from mlrelay.demo.predictions import MODEL, MONTHLY_AT
from mlrelay.demo.sections import CLEAN_DATA, DATA_BUCKET
from mlrelay.lineage_view import (
    comparison_table,
    lineage_tree,
    metric_comparison,
    readers_table,
    runs_that_read,
    sagemaker_differences,
)
from mlrelay.local.stack import EmbeddedStack
from mlrelay.reproduce import start_reproduction


def lineage(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    versions = ModelVersions(stack.info.outputs["ModelsTableName"], stack.client("dynamodb"))
    first = versions.version(MODEL, 1)
    table_uri = f"s3://{DATA_BUCKET}/{CLEAN_DATA}"
    console.print(f"\n[bold]14. Lineage[/] (mlrelay models lineage {MODEL} 1): the exact inputs, images and decision behind v1")
    if not checks.check(first is not None and bool(first.lineage), f"{MODEL} v1 has a lineage record"):
        return
    assert first is not None  # for mypy: checked just above
    console.print(lineage_tree(first))
    head = stack.client("s3").head_object(Bucket=DATA_BUCKET, Key=CLEAN_DATA)
    recorded = first.lineage["table"]["files"][0]
    checks.check(recorded["version_id"] == head.get("VersionId") and recorded["etag"] == head["ETag"].strip('"'),
                 f"the table's S3 version {recorded['version_id']} is recorded, and the run read its copy, not the URI")
    tracked = LineageTracking(stack.stage, stack.client("sagemaker")).read(MODEL, 1)
    checks.check(not sagemaker_differences(first.lineage, tracked),
                 f"SageMaker ML Lineage Tracking holds the same graph: context {tracked['context']} with "
                 f"{len(tracked['associations'])} associations (mlrelay models lineage --sagemaker)")

    console.print(f"\n   mlrelay lineage data {table_uri}")
    readers = runs_that_read(stack.client("s3"), stack.info.outputs["ConfigBucketName"], table_uri, None)
    console.print(readers_table(readers))
    kinds = {run["kind"] for run in readers}
    checks.check(kinds == {"training", "inference"}, f"{len(readers)} runs read it: training and inference runs alike")

    _reproduce(console, checks, stack, versions, first)
    _explanation(console, checks, stack)


def _reproduce(console: Console, checks: Checks, stack: EmbeddedStack, versions: ModelVersions, first: VersionRecord) -> None:
    console.print(f"\n   mlrelay models reproduce {MODEL} 1: v1 retrained from its pinned table and code")
    run_id, _ = start_reproduction(stack.client("stepfunctions"), stack.info.state_machines, first)
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id, timeout_seconds=300)
    again = versions.version_for_run(MODEL, run_id)
    if not checks.check(detail is not None and detail.summary.status == "SUCCEEDED" and again is not None,
                        f"run {run_id} {detail.summary.status if detail else 'never finished'}"):
        return
    assert again is not None  # for mypy: checked just above
    rows = metric_comparison(first.metrics, again.metrics)
    console.print(comparison_table(rows, first.version, again.version))
    checks.check(all(row["same"] for row in rows) and again.lineage["table"]["files"] == first.lineage["table"]["files"],
                 f"v{again.version} read v1's table version and matches every one of its {len(rows)} metrics; "
                 f"it waits for a person ({again.status}), the approved version stays v1")


def _explanation(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    run_id = scheduled_run_id(MODEL, "monthly", MONTHLY_AT)
    schema = stack.info.outputs["PredictionsTableName"].split(".")[0]
    rows = stack.warehouse.query(
        # The demo's own run id and schema (bandit B608).
        f"SELECT e.item_id, p.predicted_label, e.feature_rank, e.feature, e.feature_value, e.attribution "  # nosec B608
        f"FROM {schema}.explanations e JOIN {schema}.predictions p ON p.run_id = e.run_id AND p.item_id = e.item_id "
        f"WHERE e.run_id = '{run_id}' ORDER BY e.item_id, e.feature_rank LIMIT 3"
    )
    (explained,) = stack.warehouse.query(
        f"SELECT COUNT(DISTINCT item_id) FROM {schema}.explanations WHERE run_id = '{run_id}'"  # nosec B608
    )[0]
    if not checks.check(bool(rows), f"December's monthly run explained {explained:,} predictions "
                        "(monitoring.explain_predictions: 3), in the load's transaction"):
        return
    console.print(f"   mlrelay explain {MODEL} {rows[0][0]}: predicted {rows[0][1]} because of")
    for _, _, rank, feature, value, attribution in rows:
        console.print(f"     {rank}. {feature} = {value}  (SHAP {attribution:+.4f})")
