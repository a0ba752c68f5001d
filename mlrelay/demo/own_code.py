"""The demo's second use case: a team's own XGBoost code (examples/shipping-weight), a regression judged on RMSE."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.config.metrics import metric_values
from chalicelib.shared.naming import scheduled_run_id, training_run_id
from mlrelay.demo.checks import Checks, finished_run
from mlrelay.local.stack import PROJECT_ROOT, EmbeddedStack
from mlrelay.submission import prepare
from mlrelay.warehouse_client import connection_from, result_table, run_statement

CONFIG = PROJECT_ROOT / "examples" / "shipping-weight" / "config.yaml"
MODEL = "shipping-weight"
MONTHLY_AT = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)


def own_code(console: Console, checks: Checks, stack: EmbeddedStack, catalogue_rows: int) -> None:
    bucket = stack.info.outputs["ConfigBucketName"]
    console.print(f"\n[bold]10. Your own code[/]: {CONFIG.relative_to(PROJECT_ROOT)}, an XGBoost regression of shipping weight")
    s3 = stack.client("s3")
    submission = prepare(CONFIG, s3, bucket)
    bundle = submission.bundle
    assert bundle is not None  # the config names a source_dir: prepare packs it
    console.print(f"   model/ packed ({len(bundle.files)} files) → {bundle.uri(bucket)}")
    again = prepare(CONFIG, s3, bucket)
    checks.check(
        again.bundle is not None and again.bundle.key == bundle.key and not again.bundle_uploaded,
        "the same folder again: the same bundle, not uploaded twice",
    )
    key = f"configs/train/{MODEL}.yaml"
    put = s3.put_object(Bucket=bucket, Key=key, Body=submission.body)
    run_id = training_run_id(bucket, key, put.get("VersionId"), put["ETag"])
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id)
    succeeded = detail is not None and detail.summary.status == "SUCCEEDED"
    if not checks.check(succeeded, f"training run {run_id} succeeded") or detail is None or detail.output is None:
        return
    decision = detail.output["decision"]
    values = metric_values(decision["metrics"])
    checks.check(
        detail.output["registration"]["status"] == "Approved" and (values["r2"] or 0.0) > 0.5,
        f"v1 Approved on rmse {values['rmse']:,.1f} g (r2 {values['r2']:.3f}: it explains most of the weight's variance); "
        f"its own metric: {values['custom.within_25pct']:.0%} of items within 25% of their weight",
    )
    record = ModelVersions(stack.info.outputs["ModelsTableName"]).version(MODEL, 1)
    code = record.lineage.get("code", {}) if record else {}
    checks.check(code.get("uri") == bundle.uri(bucket) and record is not None and record.code.get("code_uri") == code.get("pinned_uri"),
                 f"v1 records the code that trained it: {code.get('uri')} (sha256 {str(code.get('sha256'))[:12]}…), "
                 "read and served from its pinned copy")

    stack.fire_schedule(f"mlrelay-{stack.stage}-inference-monthly", MONTHLY_AT)
    monthly = scheduled_run_id(MODEL, "monthly", MONTHLY_AT)
    done = finished_run(stack.client("stepfunctions"), stack.info.state_machines, monthly)
    checks.check(done is not None and done.summary.status == "SUCCEEDED", f"monthly run {monthly} succeeded")
    stack.wait_idle()
    table = stack.info.outputs["PredictionsTableName"]
    data = stack.client("redshift-data")
    # The demo's own names (bandit B608).
    sql = (f"SELECT item_id, predicted_value, predicted_label FROM {table} WHERE model_name = '{MODEL}' "  # nosec B608
           f"AND mode = 'monthly' ORDER BY item_id LIMIT 3")
    statement = run_statement(data, connection_from(stack.info.outputs), sql=sql)
    columns, rows = result_table(data, statement["Id"])
    shown = Table(*columns, box=None, padding=(0, 2))
    for row in rows:
        shown.add_row(*(str(v) for v in row))
    console.print(shown)
    # The demo's own run id (bandit B608).
    (count,) = stack.warehouse.query(f"SELECT COUNT(predicted_value) FROM {table} WHERE run_id = '{monthly}'")[0]  # nosec B608
    checks.check(count == catalogue_rows and all(r[2] is None for r in rows),
                 f"{count:,} predictions in {table} as numbers (predicted_value), next to the classifier's labels")

