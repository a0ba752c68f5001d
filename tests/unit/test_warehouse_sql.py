import pytest

from chalicelib.inference.warehouse_sql import (
    LoadRequest,
    PredictionsTable,
    UnsafeSqlValueError,
    client_token,
    count_sql,
    create_table_sqls,
    load_sqls,
)

TARGET = PredictionsTable("mlrelay", "predictions")
REQUEST = LoadRequest(
    run_id="infer-packaging-type-daily-2026-11-23", model_name="packaging-type", model_version=3, mode="daily",
    predicted_at="2026-11-23 05:00:00", manifest_uri="s3://mlrelay-dev-1-us-east-1/runs/m/r/predictions/manifest.json",
    iam_role_arn="arn:aws:iam::123456789012:role/mlrelay-dev-redshift-copy",
)


@pytest.mark.parametrize(
    "name", ["predictions; DROP TABLE users", "Predictions", "pred-ictions", "1predictions", "a" * 128, "", 'p"x']
)
def test_hostile_or_invalid_table_names_are_refused(name):
    with pytest.raises(UnsafeSqlValueError, match="not allowed"):
        PredictionsTable("mlrelay", name)
    with pytest.raises(UnsafeSqlValueError):
        PredictionsTable(name, "predictions")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("run_id", "r'; DELETE FROM mlrelay.predictions; --"),
        ("model_name", "Model Name"),
        ("mode", "weekly"),
        ("manifest_uri", "s3://bucket-a/x' IAM_ROLE 'y"),
        ("iam_role_arn", "arn:aws:iam::123:role/x"),
        ("predicted_at", "2026-11-23T05:00:00Z"),
    ],
)
def test_values_that_do_not_have_their_shape_never_reach_the_sql(field, value):
    hostile = LoadRequest(**{**REQUEST.__dict__, field: value})

    with pytest.raises(UnsafeSqlValueError, match="expected shape"):
        load_sqls(TARGET, hostile)


def test_the_load_is_copy_to_staging_then_delete_then_insert():
    sqls = load_sqls(TARGET, REQUEST)

    assert [s.split()[0] for s in sqls] == ["CREATE", "COPY", "DELETE", "INSERT", "DROP"]
    assert "FROM 's3://mlrelay-dev-1-us-east-1/runs/m/r/predictions/manifest.json'" in sqls[1]
    assert sqls[1].endswith("FORMAT AS CSV MANIFEST EMPTYASNULL")
    assert sqls[2] == "DELETE FROM mlrelay.predictions WHERE run_id = 'infer-packaging-type-daily-2026-11-23'"
    assert "CAST('2026-11-23 05:00:00' AS TIMESTAMP)" in sqls[3]
    staging = sqls[0].split()[3]
    assert staging.startswith("stage_") and f"FROM {staging}" in sqls[3] and sqls[4] == f"DROP TABLE {staging}"


def test_the_count_passes_the_run_id_as_a_parameter():
    sql, parameters = count_sql(TARGET, "any'thing")

    assert "any'thing" not in sql and ":run_id" in sql
    assert parameters == [{"name": "run_id", "value": "any'thing"}]


def test_client_tokens_are_stable_per_run_and_step():
    assert client_token("r", "load") == client_token("r", "load") != client_token("r", "count")
    assert len(client_token("r", "load")) <= 64


def test_the_ddl_names_every_column_of_the_documented_table():
    ddl = create_table_sqls(TARGET)[1]

    for column in ("item_id", "model_name", "model_version", "predicted_label", "probabilities", "run_id", "mode", "predicted_at"):
        assert column in ddl


def test_a_runs_explanations_are_replaced_in_the_loads_transaction_only_when_it_has_them():
    manifest = "s3://mlrelay-dev-1-us-east-1/runs/m/r/monitoring/explanations/manifest.json"
    sqls = load_sqls(TARGET, REQUEST, manifest, explained=True)

    explained = sqls[5:]
    assert [s.split()[0] for s in explained] == ["CREATE", "DELETE", "CREATE", "COPY", "INSERT", "DROP"]
    assert explained[0].startswith("CREATE TABLE IF NOT EXISTS mlrelay.explanations (")
    assert explained[1] == "DELETE FROM mlrelay.explanations WHERE run_id = 'infer-packaging-type-daily-2026-11-23'"
    assert f"FROM '{manifest}'" in explained[3] and explained[3].endswith("FORMAT AS CSV MANIFEST EMPTYASNULL")
    assert "CAST(feature_rank AS SMALLINT)" in explained[4] and "CAST(attribution AS DOUBLE PRECISION)" in explained[4]
    assert load_sqls(TARGET, REQUEST) == sqls[:5]
    assert load_sqls(TARGET, REQUEST, None, explained=True) == sqls[:7]  # none this time: the run keeps none
    assert create_table_sqls(TARGET)[-1].startswith("CREATE TABLE IF NOT EXISTS mlrelay.explanations (")
    with pytest.raises(UnsafeSqlValueError, match="expected shape"):
        load_sqls(TARGET, REQUEST, "s3://b/x' IAM_ROLE 'y", explained=True)
