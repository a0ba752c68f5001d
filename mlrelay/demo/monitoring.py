"""The demo's monitoring section: a month whose catalogue drifts, the labels that come back for it, and what people
get told."""

from __future__ import annotations

import json

from rich.console import Console

from chalicelib.shared.naming import execution_name, on_demand_run_id, scheduled_run_id, upload_identity
from chalicelib.shared.pipeline_runs import run_prefix
from mlrelay.demo.checks import Checks, finished_run, read_json, titles_about
from mlrelay.demo.predictions import MODEL, MONTHLY_AT
from mlrelay.demo.sections import DATA_BUCKET
from mlrelay.local.stack import EmbeddedStack
from mlrelay.synthetic import synthesize

DRIFTED_CATALOGUE = "catalogue/2027-01.csv"
REQUEST_KEY = f"configs/infer/{MODEL}-2027-01.json"
LABELS_KEY = f"labels/{MODEL}/2027-01.csv"
# The packing stations' record of what January's items shipped in: practice moved away from the rules the model learnt.
SHIPPED_DIFFERENTLY = 0.35


def drifting_month(console: Console, checks: Checks, stack: EmbeddedStack, catalogue_rows: int) -> None:
    bucket, s3 = stack.info.outputs["ConfigBucketName"], stack.client("s3")
    console.print(f"\n[bold]7. A month whose catalogue drifts[/]: s3://{DATA_BUCKET}/{DRIFTED_CATALOGUE} "
                  "(mlrelay data synth --drift size: larger items), checked against v1's training baseline")
    monthly = read_json(s3, bucket, f"{run_prefix(MODEL, scheduled_run_id(MODEL, 'monthly', MONTHLY_AT))}/monitoring/monitoring.json") or {}
    checks.check(monthly.get("violations") == 0 and monthly.get("ndcg") is not None,
                 f"December's monthly run (the training catalogue): {monthly.get('violations')} violations, "
                 f"SHAP ranking NDCG {monthly.get('ndcg') or 0:.3f}")

    drifted = january(catalogue_rows)
    s3.put_object(Bucket=DATA_BUCKET, Key=DRIFTED_CATALOGUE, Body=drifted.to_csv(index=False).encode())
    request = {"schema_version": 1, "model_name": MODEL, "catalogue_uri": f"s3://{DATA_BUCKET}/{DRIFTED_CATALOGUE}"}
    put = s3.put_object(Bucket=bucket, Key=REQUEST_KEY, Body=json.dumps(request).encode())
    console.print(f"   predict January's catalogue: s3://{bucket}/{REQUEST_KEY}")
    run_id = on_demand_run_id(MODEL, bucket, REQUEST_KEY, put.get("VersionId"))
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    if not checks.check(detail is not None and detail.summary.status == "SUCCEEDED",
                        f"run {run_id} {detail.summary.status if detail else 'never finished'}: loaded, as "
                        "monitoring.on_violation: warn asks"):
        return
    summary = read_json(s3, bucket, f"{run_prefix(MODEL, run_id)}/monitoring/monitoring.json") or {}
    moved = ", ".join(f"{d['feature']} ({d['method']} {d['statistic']:.2f})" for d in summary.get("drifted", []))
    checks.check(summary.get("drifted_count", 0) >= 3, f"{summary.get('drifted_count')} features drifted: {moved}")
    checks.check(summary.get("ndcg") is not None, f"SHAP ranking NDCG against training: {summary.get('ndcg') or 0:.3f} "
                 f"(an alert below {summary.get('ndcg_threshold', 0.9):g})")
    titles = titles_about(stack, run_id)
    checks.check(len(titles) == 1, f"one alert: {'; '.join(titles) or 'none'}")
    violations = read_json(s3, bucket, f"{run_prefix(MODEL, run_id)}/monitoring/constraint_violations.json") or {"violations": []}
    console.print(f"   constraint_violations.json: {len(violations['violations'])} violations; "
                  f"report: {summary.get('report_uri')}")
    rows = stack.warehouse.query(
        # The demo's own run id (bandit B608).
        f"SELECT COUNT(*) FROM mlrelay.model_monitoring WHERE run_id = '{run_id}' AND violated = 1"  # nosec B608
    )[0][0]
    checks.check(rows == len(violations["violations"]) + int(bool(summary.get("attribution_drift"))),
                 f"mlrelay.model_monitoring holds the run's {rows} violations for analysts")
    console.print(f"   `mlrelay monitor show {run_id}` prints the drift table and saves the report")


def january(catalogue_rows: int, label_noise: float = 0.02):
    """January's catalogue (larger items); the same items with other labels for another `label_noise`."""
    return synthesize(catalogue_rows, seed=11, drift="size", start=MONTHLY_AT.date(), days=31, label_noise=label_noise)


def labels_arrive(console: Console, checks: Checks, stack: EmbeddedStack, catalogue_rows: int) -> None:
    bucket, s3 = stack.info.outputs["ConfigBucketName"], stack.client("s3")
    shipped = january(catalogue_rows, SHIPPED_DIFFERENTLY)[["item_id", "package_type"]]
    put = s3.put_object(Bucket=bucket, Key=LABELS_KEY, Body=shipped.to_csv(index=False).encode())
    console.print(f"\n[bold]8. Labels come back[/]: what January's {len(shipped):,} items really shipped in → s3://{bucket}/{LABELS_KEY}")
    run_id = execution_name("quality", MODEL, bucket, LABELS_KEY, upload_identity(put.get("VersionId"), put["ETag"]))
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    if not checks.check(detail is not None and detail.summary.status == "SUCCEEDED",
                        f"quality run {run_id} {detail.summary.status if detail else 'never finished'}: labels joined to "
                        "the stored predictions by item id"):
        return
    metrics_key = f"{run_prefix(MODEL, run_id)}/quality/metrics.json"
    metrics = read_json(s3, bucket, metrics_key) or {}
    data = metrics.get("data", {})
    checks.check(data.get("matched_rows") == len(shipped),
                 f"{data.get('matched_rows')} of {data.get('labelled_rows')} labels matched a prediction; "
                 f"metrics.json in the training evaluation's format: s3://{bucket}/{metrics_key}")
    titles = titles_about(stack, run_id)
    checks.check(len(titles) == 1 and "quality dropped" in titles[0], f"one alert: {'; '.join(titles) or 'none'}")
