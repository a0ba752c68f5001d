"""GIVEN an approved model, WHEN inference runs, THEN its predictions are in the warehouse exactly once."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.inference.warehouse_sql import LoadRequest, PredictionsTable, create_table_sqls, load_sqls
from chalicelib.shared.naming import on_demand_run_id, scheduled_run_id
from mlrelay.synthetic import synthesize
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import valid_config

pytestmark = pytest.mark.functional

MODEL = "infer-check"
CATALOGUE_ROWS = 1500  # the session's training table, which is also this model's catalogue


@pytest.fixture(scope="module")
def approved_model(aws):
    table = aws.stack.info.outputs["PredictionsTableName"].split(".")
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=create_table_sqls(PredictionsTable(*table)))
    aws.drop(f"configs/train/{MODEL}.json", json.dumps(valid_config(model_name=MODEL)).encode())
    (run,) = aws.runs(f"train-{MODEL}-")
    assert run["status"] == "SUCCEEDED"
    return run


def fire(aws, mode, at):
    aws.stack.fire_schedule(f"mlrelay-dev-inference-{mode}", at)
    aws.stack.runtime.wait_idle()  # the handler has started its runs


def inference_run(aws, run_id):
    (run,) = aws.runs(run_id, machine="inference")
    return run, aws.sfn.describe_execution(executionArn=run["executionArn"])


def rows(aws, where):
    return aws.stack.warehouse.query(f"SELECT COUNT(*) FROM {aws.stack.info.outputs['PredictionsTableName']} WHERE {where}")[0][0]


def drop_request(aws, name, **fields):
    key = f"configs/infer/{name}.json"
    put = aws.drop(key, json.dumps({"schema_version": 1, "model_name": MODEL, **fields}).encode())
    return on_demand_run_id(MODEL, aws.bucket, key, put["VersionId"])


def test_daily_predicts_only_new_items_and_monthly_the_whole_catalogue(aws, approved_model):
    daily_at = datetime(2026, 10, 14, 5, tzinfo=UTC)
    fire(aws, "daily", daily_at)
    fire(aws, "monthly", datetime(2026, 11, 1, 6, tzinfo=UTC))

    daily, daily_execution = inference_run(aws, scheduled_run_id(MODEL, "daily", daily_at))
    monthly, _ = inference_run(aws, f"infer-{MODEL}-monthly-2026-11")

    assert daily["status"] == monthly["status"] == "SUCCEEDED"
    catalogue = synthesize(CATALOGUE_ROWS, seed=1)
    added_on_the_day_before = int((catalogue["added_at"] == "2026-10-13").sum())
    assert rows(aws, f"run_id = '{daily['name']}'") == added_on_the_day_before
    assert rows(aws, f"run_id = '{monthly['name']}'") == CATALOGUE_ROWS
    output = json.loads(daily_execution["output"])
    assert output["verified"]["notification"]["kind"] == "predictions_loaded"


def test_a_schedule_delivered_twice_starts_one_run(aws, approved_model):
    at = datetime(2026, 10, 20, 5, tzinfo=UTC)

    fire(aws, "daily", at)
    fire(aws, "daily", at)

    runs = aws.runs(scheduled_run_id(MODEL, "daily", at), machine="inference")
    assert len(runs) == 1 and runs[0]["status"] == "SUCCEEDED"


def test_loading_a_run_again_replaces_its_rows(aws, approved_model):
    run_id = drop_request(aws, "reload")
    run, _ = inference_run(aws, run_id)
    assert run["status"] == "SUCCEEDED"
    loaded = rows(aws, f"run_id = '{run_id}'")
    request = LoadRequest(
        run_id=run_id, model_name=MODEL, model_version=1, mode="on_demand", predicted_at="2026-11-23 05:00:00",
        manifest_uri=f"s3://{aws.bucket}/runs/{MODEL}/{run_id}/predictions/manifest.json",
        iam_role_arn="arn:aws:iam::123456789012:role/mlrelay-dev-redshift-copy",
    )

    table = PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=load_sqls(table, request))

    assert loaded == CATALOGUE_ROWS
    assert rows(aws, f"run_id = '{run_id}'") == loaded


def test_no_approved_model_fails_clearly_and_reaches_the_failure_path(aws):
    key = "configs/infer/never-trained.json"
    put = aws.drop(key, json.dumps({"schema_version": 1, "model_name": "never-trained"}).encode())
    run_id = on_demand_run_id("never-trained", aws.bucket, key, put["VersionId"])

    run, execution = inference_run(aws, run_id)

    assert (run["status"], execution["error"]) == ("FAILED", "NoApprovedModel")
    assert "never-trained has no approved version" in execution["cause"]
    (message,) = aws.failures_for(lambda m: m.get("run_id") == run_id)
    assert message["workflow"] == "inference" and message["error"] == "NoApprovedModel"
    assert message["state"] == "ResolveApprovedModel"


@pytest.fixture
def tamper_after_pipeline(aws):
    """Run each pipeline to its end, then change its outputs before the workflow loads them."""
    changes = []

    def tamper(run_id):
        for change in changes:
            change(f"runs/{MODEL}/{run_id}/predictions")

    fault = aws.stack.faults.end_pipeline_early("infer-", then=tamper)
    yield changes
    aws.stack.faults.remove(fault)


def delete_the_part(aws, prefix):
    aws.s3.delete_object(Bucket=aws.bucket, Key=f"{prefix}/part-00000.csv")


def add_a_column(aws, prefix):
    aws.s3.put_object(Bucket=aws.bucket, Key=f"{prefix}/part-00000.csv", Body=b'I1,BOX,,"{}",surplus\n')


@pytest.mark.parametrize(
    ("name", "break_the_copy", "database_says"),
    [
        ("missing-file", delete_the_part, "The specified key does not exist"),
        ("bad-column", add_a_column, "Expected Number of Columns: 4 Found: 5"),
    ],
)
def test_a_failing_copy_fails_the_run_with_the_databases_message_and_leaves_the_table_unchanged(
    aws, approved_model, tamper_after_pipeline, name, break_the_copy, database_says
):
    tamper_after_pipeline.append(lambda prefix: break_the_copy(aws, prefix))
    before = rows(aws, "TRUE")

    run, execution = inference_run(aws, drop_request(aws, name))

    assert (run["status"], execution["error"]) == ("FAILED", "RedshiftLoadFailed")
    assert database_says in execution["cause"]
    assert rows(aws, "TRUE") == before


def test_a_row_count_mismatch_is_detected(aws, approved_model, tamper_after_pipeline):
    def claim_one_more_row(prefix):
        summary = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=f"{prefix}/summary.json")["Body"].read())
        summary["rows"] += 1
        aws.s3.put_object(Bucket=aws.bucket, Key=f"{prefix}/summary.json", Body=json.dumps(summary).encode())

    tamper_after_pipeline.append(claim_one_more_row)

    run, execution = inference_run(aws, drop_request(aws, "count-mismatch"))

    assert (run["status"], execution["error"]) == ("FAILED", "RowCountMismatchError")
    assert f"holds {CATALOGUE_ROWS:,} rows" in execution["cause"] and f"produced {CATALOGUE_ROWS + 1:,}" in execution["cause"]


def test_hostile_item_ids_are_loaded_as_data_and_a_count_far_from_the_last_is_flagged(aws, approved_model):
    full, _ = inference_run(aws, drop_request(aws, "before-hostile"))
    assert full["status"] == "SUCCEEDED"
    catalogue = synthesize(5, seed=9)
    catalogue["item_id"] = ["x'); DROP TABLE mlrelay.predictions; --", 'q"uote', "semi;colon", "comma,id", "line\\nbreak"]
    aws.s3.put_object(Bucket="mlrelay-demo-data", Key="catalogue/hostile.csv", Body=catalogue.to_csv(index=False).encode())

    run, execution = inference_run(aws, drop_request(aws, "hostile", catalogue_uri="s3://mlrelay-demo-data/catalogue/hostile.csv"))

    assert run["status"] == "SUCCEEDED"
    notice = json.loads(execution["output"])["verified"]["notification"]
    assert (notice["rows_loaded"], notice["previous_rows"], notice["far_from_previous"]) == (5, CATALOGUE_ROWS, True)
    stored = {r[0] for r in aws.stack.warehouse.query(f"SELECT item_id FROM mlrelay.predictions WHERE run_id = '{run['name']}'")}
    assert stored == set(catalogue["item_id"])


def test_no_successful_daily_run_for_36_hours_is_noticed_once_a_day(aws, approved_model):
    fire(aws, "daily", datetime(2026, 10, 5, 5, tzinfo=UTC))  # a successful daily run now
    aws.runs(f"infer-{MODEL}-daily-2026-10-05", machine="inference")
    now = datetime.now(UTC)

    fresh = aws.invoke("check_daily_freshness", {"checked_at": now.isoformat()})
    later = (now + timedelta(days=2)).isoformat()
    stale = aws.invoke("check_daily_freshness", {"checked_at": later})
    again = aws.invoke("check_daily_freshness", {"checked_at": later})

    assert MODEL not in fresh["stale"]
    assert MODEL in stale["stale"] and MODEL in again["stale"]
    notices = aws.notifications_for(lambda m: m.get("kind") == "daily_inference_stale" and m["model_name"] == MODEL, at_least=2)
    assert len(notices) == 2
    posts = [m for m in aws.stack.slack.messages if m.message["text"] == f"⏰ no daily predictions for {MODEL} in over 36 hours"]
    assert len(posts) == 1  # the second check the same day collapses into the first alert


def test_a_model_whose_config_is_gone_is_skipped_and_the_others_still_run(aws, approved_model):
    package = "arn:aws:sagemaker:us-east-1:123456789012:model-package/lost-config/1"
    config = {"bucket": aws.bucket, "key": "configs/train/gone.json", "version_id": None}
    lost = VersionRecord("lost-config", 1, "Approved", "train-lost-config-1", package, {}, {}, "2026-11-01T00:00:00+00:00", config)
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    versions.put(lost)
    versions.point_to(lost)
    try:
        answer = aws.invoke("on_inference_schedule", {"mode": "monthly", "scheduled_for": "2026-08-01T06:00:00Z"})
    finally:
        for key in ("approved", "version#000001"):
            aws.dynamodb.delete_item(TableName=aws.stack.info.outputs["ModelsTableName"],
                                     Key={"model_name": {"S": "lost-config"}, "version_key": {"S": key}})
    assert "lost-config" in answer["skipped"]
    assert f"infer-{MODEL}-monthly-2026-08" in answer["started"] + answer["already_started"]
    aws.runs(f"infer-{MODEL}-monthly-2026-08", machine="inference")
