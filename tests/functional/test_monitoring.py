"""GIVEN an approved model with its training baseline, WHEN an inference run's catalogue drifts, THEN people hear
which features moved, the results are in the warehouse, and a blocking model loads nothing."""

import json
import re

import pytest
from typer.testing import CliRunner

from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.naming import on_demand_run_id, package_group_name
from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.synthetic import synthesize
from mlrelay.warehouse_client import connection_from, run_statement
from tests.functional.conftest import DATA_BUCKET

pytestmark = pytest.mark.functional

WARNS, BLOCKS = "drift-warn", "drift-block"


@pytest.fixture(scope="module")
def models(aws):
    table = PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=create_table_sqls(table))
    training = aws.s3.get_object(Bucket=DATA_BUCKET, Key="catalogue/train.csv")["Body"]
    resample = __import__("pandas").read_csv(training).sample(1500, replace=True, random_state=4)
    shifted = synthesize(1500, seed=6, drift="size")
    shifted.loc[:99, "material"] = "bamboo"
    catalogues = {"resample": resample, "shifted": shifted, "no-weight": synthesize(300, seed=7).drop(columns=["weight_g"])}
    for name, frame in catalogues.items():
        aws.s3.put_object(Bucket=DATA_BUCKET, Key=f"monitoring/{name}.csv", Body=frame.to_csv(index=False).encode())
    aws.drop_training_config(WARNS)
    aws.drop_training_config(BLOCKS, monitoring={"on_violation": "block"})
    aws.stack.runtime.wait_idle()
    for model in (WARNS, BLOCKS):
        (run,) = aws.runs(f"train-{model}-", timeout=180)
        assert run["status"] == "SUCCEEDED", run
    return table


def predict(aws, model, catalogue):
    key = f"configs/infer/{model}-{catalogue}.json"
    body = {"schema_version": 1, "model_name": model, "catalogue_uri": f"s3://{DATA_BUCKET}/monitoring/{catalogue}.csv"}
    put = aws.drop(key, json.dumps(body).encode())
    run_id = on_demand_run_id(model, aws.bucket, key, put["VersionId"])
    (run,) = aws.runs(run_id, machine="inference", timeout=180)
    return run


def warehouse(aws, sql):
    return aws.stack.warehouse.query(sql)


def test_training_stores_the_baseline_with_the_version(aws, models):
    (run,) = aws.runs(f"train-{WARNS}-")
    evaluation = f"runs/{WARNS}/{run['name']}/evaluation"

    statistics = aws.read_json(f"{evaluation}/statistics.json")
    constraints = aws.read_json(f"{evaluation}/constraints.json")
    attributions = aws.read_json(f"{evaluation}/attributions.json")

    assert statistics["dataset"]["item_count"] == 1200 and "package_type" in statistics["dataset"]["columns"]
    assert {f["name"] for f in constraints["features"]} == {"length_cm", "width_cm", "height_cm", "weight_g", "fragile", "material",
                                                            "category", "price"}
    assert constraints["monitoring_config"]["distribution_constraints"]["large_sample_rows"] == 1000
    assert len(attributions["features"]) == 8 and attributions["fidelity"] > 0.5
    sagemaker = aws.stack.client("sagemaker")
    (listed,) = sagemaker.list_model_packages(ModelPackageGroupName=package_group_name("dev", WARNS))["ModelPackageSummaryList"]
    package = sagemaker.describe_model_package(ModelPackageName=listed["ModelPackageArn"])
    assert package["ModelMetrics"]["ModelDataQuality"]["Statistics"]["S3Uri"].endswith(f"{evaluation}/statistics.json")


def test_a_resample_of_the_training_table_raises_no_alert_and_records_clean_results(aws, models):
    run = predict(aws, WARNS, "resample")

    assert run["status"] == "SUCCEEDED"
    summary = aws.read_json(f"runs/{WARNS}/{run['name']}/monitoring/monitoring.json")
    assert (summary["violations"], summary["attribution_drift"]) == (0, False)
    assert aws.notifications_for(lambda m: m.get("run_id") == run["name"] and m["kind"] == "data_drift_detected", at_least=0) == []
    tests, violated = warehouse(aws, f"SELECT COUNT(*), SUM(violated) FROM mlrelay.model_monitoring WHERE run_id = '{run['name']}'")[0]
    assert (tests, violated) == (9, 0)  # a test per feature and the NDCG


def test_a_shifted_catalogue_sends_one_alert_naming_the_moved_features_and_still_loads(aws, models):
    run = predict(aws, WARNS, "shifted")

    assert run["status"] == "SUCCEEDED"
    (notice,) = aws.notifications_for(lambda m: m.get("run_id") == run["name"] and m["kind"] == "data_drift_detected")
    named = {f["feature"]: f["check"] for f in notice["features"]}
    assert {"length_cm", "height_cm", "weight_g"} <= set(named) and named.get("material") in {"categorical_values_check",
                                                                                              "baseline_drift_check"}
    assert notice["loaded"] is True and notice["report_uri"].endswith(f"runs/{WARNS}/{run['name']}/monitoring/report.html")
    (post,) = aws.slack_posts(f"mlrelay monitor show {run['name']}")
    assert "length_cm" in json.dumps(post) and "NDCG" in json.dumps(post)
    violations = aws.read_json(f"runs/{WARNS}/{run['name']}/monitoring/constraint_violations.json")["violations"]
    assert ("material", "categorical_values_check") in {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    drifted = warehouse(aws, f"SELECT feature FROM mlrelay.model_monitoring WHERE run_id = '{run['name']}' AND violated = 1 "
                             "AND check_type = 'baseline_drift_check'")
    assert {"length_cm", "height_cm", "weight_g"} <= {row[0] for row in drifted}
    assert warehouse(aws, f"SELECT COUNT(*) FROM {models.qualified} WHERE run_id = '{run['name']}'")[0][0] == 1500


def test_a_model_that_blocks_on_violations_loads_nothing_and_says_why_once(aws, models):
    run = predict(aws, BLOCKS, "shifted")

    assert run["status"] == "FAILED"
    (failure,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert (failure["state"], failure["error"]) == ("RecordMonitoring", "DataQualityViolation")
    assert "length_cm" in failure["cause"] and "report.html" in failure["cause"]
    assert aws.notifications_for(lambda m: m.get("run_id") == run["name"], at_least=0) == []
    assert warehouse(aws, f"SELECT COUNT(*) FROM {models.qualified} WHERE run_id = '{run['name']}'")[0][0] == 0
    assert warehouse(aws, f"SELECT COUNT(*) FROM mlrelay.model_monitoring WHERE run_id = '{run['name']}' AND violated = 1")[0][0] >= 4


def test_a_catalogue_missing_a_feature_fails_before_predicting_and_names_it(aws, models):
    run = predict(aws, WARNS, "no-weight")

    assert run["status"] == "FAILED"
    (failure,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert "weight_g" in failure["cause"] and "not in the catalogue" in failure["cause"]
    assert warehouse(aws, f"SELECT COUNT(*) FROM {models.qualified} WHERE run_id = '{run['name']}'")[0][0] == 0


def test_monitor_show_prints_the_drift_table_and_saves_the_report_and_models_show_the_baseline(aws, models, tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(aws.stack.info)
    run = predict(aws, WARNS, "shifted")
    runner = CliRunner()

    shown = runner.invoke(app, ["monitor", "show", run["name"], "--save", str(tmp_path / "report.html")], terminal_width=200)
    models = runner.invoke(app, ["models", "show", WARNS], terminal_width=200)

    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert re.search(r"length_cm drift wasserstein [0-9.]+ 0\.1 violated", text), text
    assert "material: 6.7% of values are not in the baseline: bamboo (100)" in text and "SHAP ranking NDCG" in text
    page = (tmp_path / "report.html").read_text()
    assert "<svg" in page and "length_cm" in page
    assert models.exit_code == 0 and "baseline: 8 features of 1,200 rows" in " ".join(models.output.split())
    missing = runner.invoke(app, ["monitor", "show", "infer-nothing-here"])
    assert missing.exit_code == 1 and "no run named 'infer-nothing-here'" in " ".join(missing.output.split())
