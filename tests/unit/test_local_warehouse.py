"""The local warehouse answers the Data API as Redshift would (S3 from moto in memory)."""

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.inference.warehouse_sql import LoadRequest, PredictionsTable, create_table_sqls, load_sqls
from mlrelay.local.warehouse import LocalWarehouse, RequestError, StatementNotFoundError

CONNECTION = {"WorkgroupName": "wg", "Database": "dev"}
TARGET = PredictionsTable("mlrelay", "predictions")
BUCKET = "warehouse-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def warehouse(s3):
    local = LocalWarehouse(lambda: s3)
    finish(local, local.batch_execute_statement({**CONNECTION, "Sqls": create_table_sqls(TARGET)}))
    yield local
    local.shutdown()


def finish(warehouse, submitted):
    warehouse.wait_idle()
    return warehouse.describe_statement(submitted["Id"])


def put_predictions(s3, run, rows, extra_entry=None):
    body = "".join(f'{item},BOX,,"{{""BOX"": 0.9}}"\n' for item in rows)
    s3.put_object(Bucket=BUCKET, Key=f"{run}/part-00000.csv", Body=body.encode())
    entries = [{"url": f"s3://{BUCKET}/{run}/part-00000.csv", "mandatory": True}]
    if extra_entry:
        entries.append({"url": f"s3://{BUCKET}/{run}/{extra_entry}", "mandatory": True})
    s3.put_object(Bucket=BUCKET, Key=f"{run}/manifest.json", Body=json.dumps({"entries": entries}).encode())


def load(run, rows_file_run=None):
    request = LoadRequest(
        run_id=run, model_name="packaging-type", model_version=1, mode="daily", predicted_at="2026-11-23 05:00:00",
        manifest_uri=f"s3://{BUCKET}/{rows_file_run or run}/manifest.json",
        iam_role_arn="arn:aws:iam::123456789012:role/copy",
    )
    return {**CONNECTION, "Sqls": load_sqls(TARGET, request)}


def count(warehouse, run=None):
    where = f" WHERE run_id = '{run}'" if run else ""
    return warehouse.query(f"SELECT COUNT(*) FROM mlrelay.predictions{where}")[0][0]


def test_a_load_copies_by_manifest_and_a_reload_replaces_the_runs_rows(warehouse, s3):
    put_predictions(s3, "run-a", ["I1", "I2", "I3"])

    first = finish(warehouse, warehouse.batch_execute_statement(load("run-a")))
    again = finish(warehouse, warehouse.batch_execute_statement(load("run-a")))

    assert first["Status"] == again["Status"] == "FINISHED"
    assert [s["ResultRows"] for s in first["SubStatements"]][1] == 3  # the COPY
    assert count(warehouse, "run-a") == 3


def test_a_missing_file_fails_the_batch_and_leaves_the_table_unchanged(warehouse, s3):
    put_predictions(s3, "run-b", ["I1"])
    finish(warehouse, warehouse.batch_execute_statement(load("run-b")))
    put_predictions(s3, "run-b", ["I1", "I2"], extra_entry="part-00001.csv")

    failed = finish(warehouse, warehouse.batch_execute_statement(load("run-b")))

    assert failed["Status"] == "FAILED"
    assert "The specified key does not exist" in failed["Error"]
    assert count(warehouse, "run-b") == 1  # the earlier load is still there, nothing half-done


def test_a_bad_column_fails_with_the_databases_message(warehouse, s3):
    s3.put_object(Bucket=BUCKET, Key="run-c/part-00000.csv", Body=b"I1,BOX,,{},extra\n")
    entries = {"entries": [{"url": f"s3://{BUCKET}/run-c/part-00000.csv", "mandatory": True}]}
    s3.put_object(Bucket=BUCKET, Key="run-c/manifest.json", Body=json.dumps(entries).encode())

    failed = finish(warehouse, warehouse.batch_execute_statement(load("run-c")))

    assert failed["Status"] == "FAILED"
    assert "Expected Number of Columns: 4 Found: 5" in failed["Error"]
    assert count(warehouse) == 0


def test_regression_rows_load_as_numbers_and_the_unused_columns_as_null(warehouse, s3):
    s3.put_object(Bucket=BUCKET, Key="run-r/part-00000.csv", Body=b"I1,,152.25,\nI2,,3e2,\n")
    entries = {"entries": [{"url": f"s3://{BUCKET}/run-r/part-00000.csv", "mandatory": True}]}
    s3.put_object(Bucket=BUCKET, Key="run-r/manifest.json", Body=json.dumps(entries).encode())

    done = finish(warehouse, warehouse.batch_execute_statement(load("run-r")))

    assert done["Status"] == "FINISHED", done.get("Error")
    rows = warehouse.query("SELECT item_id, predicted_label, predicted_value, probabilities FROM mlrelay.predictions "
                           "WHERE run_id = 'run-r' ORDER BY item_id")
    assert rows == [("I1", None, 152.25, None), ("I2", None, 300.0, None)]


def test_the_first_layout_is_migrated_with_its_rows_and_kept(warehouse):
    from chalicelib.inference.warehouse_sql import columns_sql, migration_sqls

    old = PredictionsTable("legacy", "predictions")
    finish(warehouse, warehouse.batch_execute_statement({**CONNECTION, "Sqls": [
        "CREATE SCHEMA legacy",
        "CREATE TABLE legacy.predictions (item_id VARCHAR(128) NOT NULL, model_name VARCHAR(64) NOT NULL, model_version INTEGER "
        "NOT NULL, predicted_label VARCHAR(64) NOT NULL, probabilities VARCHAR(4096), run_id VARCHAR(128) NOT NULL, "
        "mode VARCHAR(16) NOT NULL, predicted_at TIMESTAMP NOT NULL)",
        "INSERT INTO legacy.predictions VALUES ('I1', 'pt', 1, 'BOX', '{}', 'r1', 'monthly', TIMESTAMP '2026-11-01 06:00:00')",
    ]}))
    sql, parameters = columns_sql(old)
    listed = finish(warehouse, warehouse.execute_statement({**CONNECTION, "Sql": sql, "Parameters": parameters}))
    columns = [r[0]["stringValue"] for r in warehouse.get_statement_result(listed["Id"])["Records"]]

    migrated = finish(warehouse, warehouse.batch_execute_statement({**CONNECTION, "Sqls": migration_sqls(old, columns)}))

    assert migrated["Status"] == "FINISHED", migrated.get("Error")
    assert warehouse.query("SELECT item_id, predicted_label, predicted_value FROM legacy.predictions") == [("I1", "BOX", None)]
    assert warehouse.query("SELECT COUNT(*) FROM legacy.predictions_v1") == [(1,)]
    assert migration_sqls(old, columns + ["predicted_value"]) == []


def test_parameters_bind_values_and_results_come_back_typed(warehouse, s3):
    put_predictions(s3, "run-d", ["I1", "I'; DROP TABLE mlrelay.predictions; --"])
    finish(warehouse, warehouse.batch_execute_statement(load("run-d")))
    sql = "SELECT item_id, model_version FROM mlrelay.predictions WHERE run_id = :run_id ORDER BY item_id"

    done = finish(warehouse, warehouse.execute_statement({**CONNECTION, "Sql": sql, "Parameters": [{"name": "run_id", "value": "run-d"}]}))
    result = warehouse.get_statement_result(done["Id"])

    assert [r[0]["stringValue"] for r in result["Records"]] == ["I'; DROP TABLE mlrelay.predictions; --", "I1"]
    assert result["Records"][0][1] == {"longValue": 1}
    assert [c["name"] for c in result["ColumnMetadata"]] == ["item_id", "model_version"]


def test_a_bad_statement_fails_with_the_databases_message(warehouse):
    failed = finish(warehouse, warehouse.execute_statement({**CONNECTION, "Sql": "SELECT * FROM missing_table"}))

    assert failed["Status"] == "FAILED" and "missing_table" in failed["Error"]


def test_the_same_client_token_runs_once(warehouse, s3):
    put_predictions(s3, "run-e", ["I1"])
    request = {**load("run-e"), "ClientToken": "token-1"}

    first = warehouse.batch_execute_statement(request)
    second = warehouse.batch_execute_statement(request)
    warehouse.wait_idle()

    assert first["Id"] == second["Id"]
    assert sum(sql.startswith("COPY") for sql in warehouse.executed) == 1


def test_requests_without_a_way_in_are_refused(warehouse):
    with pytest.raises(RequestError, match="WorkgroupName"):
        warehouse.execute_statement({"Database": "dev", "Sql": "SELECT 1"})
    with pytest.raises(RequestError, match="SecretArn or DbUser"):
        warehouse.execute_statement({"Database": "dev", "ClusterIdentifier": "c", "Sql": "SELECT 1"})
    with pytest.raises(StatementNotFoundError):
        warehouse.describe_statement("no-such-id")
