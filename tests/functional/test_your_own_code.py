"""GIVEN a team's own code and table, THEN it trains, is judged on its own metric, and predicts into the warehouse.

Each task end to end on the embedded stack: scikit-learn's public tables
(regression: diabetes; binary: breast cancer, with columns like "mean radius";
multiclass: wine, with "od280/od315_of_diluted_wines"), the XGBoost example in
examples/shipping-weight/model/, a team's scikit-learn classifier, and the
built-in models. Then the ways a team's code fails: a crashing script, a
requirement that cannot be installed, a framework this machine does not run.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.synthetic import PACKAGE_TYPES
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import ROOT, valid_config

pytestmark = pytest.mark.functional

DATA = "mlrelay-demo-data"
CODE = ROOT / "tests" / "functional" / "code"
XGBOOST_CODE = ROOT / "examples" / "shipping-weight" / "model"
MONTHLY = {"daily": False, "monthly": True, "id_column": "item_id"}
CATALOGUE_ROWS = 1500  # tests/functional/conftest.py puts the synthetic catalogue there
WEIGHT = {"uri": f"s3://{DATA}/catalogue/train.csv", "label_column": "weight_g",
          "feature_columns": ["length_cm", "width_cm", "height_cm", "fragile", "material", "category"]}


def table(loader, name):
    frame = loader(as_frame=True).frame
    frame.insert(0, "item_id", [f"{name}-{i:04d}" for i in range(len(frame))])
    return frame


def put_table(aws, name, frame):
    aws.s3.put_object(Bucket=DATA, Key=f"byom/{name}.csv", Body=frame.to_csv(index=False).encode())
    return f"s3://{DATA}/byom/{name}.csv"


def data(uri, frame, label="target"):
    return {"uri": uri, "label_column": label, "feature_columns": [c for c in frame.columns if c not in (label, "item_id")]}


@pytest.fixture(scope="module")
def tables(aws):
    frames = {"diabetes": table(load_diabetes, "diabetes"), "cancer": table(load_breast_cancer, "cancer"), "wine": table(load_wine, "wine")}
    frames["wine"]["target"] = frames["wine"]["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    run_statement(aws.data, connection_from(aws.stack.info.outputs),
                  sqls=create_table_sqls(PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))))
    return {name: (put_table(aws, name, frame), frame) for name, frame in frames.items()}


@pytest.fixture(scope="module")
def trained(aws, tables, tmp_path_factory):
    """Every model at once: each trains once; the regression model twice, the second time worse."""
    folder = tmp_path_factory.mktemp("code")
    shutil.copytree(XGBOOST_CODE, folder / "xgboost")
    shutil.copytree(CODE / "classifier", folder / "classifier")
    regression = {"task": "regression", "data": WEIGHT, "inference": MONTHLY,
                  "approval": {"metric": "rmse", "max_regression": 0.05, "regression_unit": "relative"}}
    first = aws.drop_code_config(folder / "xgboost", "byom-weight", model={
        "framework": "xgboost", "hyperparameters": {"num_round": 60, "max_depth": 4, "eta": 0.1}}, **regression)
    diabetes_uri, diabetes = tables["diabetes"]
    aws.drop_training_config("byom-diabetes", task="regression", data=data(diabetes_uri, diabetes), inference=MONTHLY,
                             model={"type": "sklearn.gradient_boosting", "hyperparameters": {"n_estimators": 50, "max_depth": 2}},
                             approval={"metric": "r2", "threshold": 0.2})
    cancer_uri, cancer = tables["cancer"]
    aws.drop_code_config(folder / "classifier", "byom-cancer", task="binary_classification", data=data(cancer_uri, cancer),
                         inference=MONTHLY, approval={"metric": "auc", "threshold": 0.9}, model={"hyperparameters": {"C": 0.5}})
    wine_uri, wine = tables["wine"]
    aws.drop_training_config("byom-wine", task="multiclass_classification", data=data(wine_uri, wine), inference=MONTHLY,
                             model={"type": "sklearn.random_forest", "hyperparameters": {"n_estimators": 50}},
                             approval={"metric": "weighted_f1"})
    aws.stack.runtime.wait_idle()
    runs = {name: aws.runs(f"train-byom-{name}-", timeout=240) for name in ("weight", "diabetes", "cancer", "wine")}
    worse = aws.drop_code_config(folder / "xgboost", "byom-weight", model={
        "framework": "xgboost", "hyperparameters": {"num_round": 3, "max_depth": 1, "eta": 0.1}}, **regression)
    aws.stack.runtime.wait_idle()
    runs["weight-worse"] = [r for r in aws.runs("train-byom-weight-", timeout=240) if r["name"] != runs["weight"][0]["name"]]
    return runs, (first, worse)


def succeeded(aws, run):
    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert run["status"] == "SUCCEEDED", execution.get("cause")
    return True


def output_of(aws, run):
    return json.loads(aws.sfn.describe_execution(executionArn=run["executionArn"])["output"])


def rows(aws, run_id, columns):
    return aws.stack.warehouse.query(f"SELECT {columns} FROM mlrelay.predictions WHERE run_id = '{run_id}' ORDER BY item_id")


def test_a_regression_of_the_teams_xgboost_code_is_judged_on_rmse_and_predicts_numbers(aws, trained):
    runs, _ = trained
    (run,) = runs["weight"]
    assert succeeded(aws, run)
    output = output_of(aws, run)
    metrics = output["decision"]["metrics"]
    assert output["registration"]["status"] == "Approved" and output["decision"]["primary_metric"] == "rmse"
    assert set(metrics["regression_metrics"]) == {"rmse", "mae", "mse", "r2"}
    assert metrics["regression_metrics"]["r2"]["value"] > 0.5
    assert 0 <= metrics["custom_metrics"]["within_25pct"]["value"] <= 1  # the script's own metric
    record = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version("byom-weight", 1)
    assert record.code["framework"] == "xgboost" and record.code["code_uri"].endswith("/sourcedir.tar.gz")

    monthly = aws.monthly_run("byom-weight", "2030-01")

    assert monthly["status"] == "SUCCEEDED"
    loaded = rows(aws, monthly["name"], "predicted_label, predicted_value, probabilities")
    assert len(loaded) == CATALOGUE_ROWS
    assert all(label is None and isinstance(value, float) and value > 0 and scores is None for label, value, scores in loaded)


def test_a_public_regression_table_trains_with_a_built_in_model(aws, trained, tables):
    runs, _ = trained
    (run,) = runs["diabetes"]
    assert succeeded(aws, run)
    output = output_of(aws, run)
    assert output["registration"]["status"] == "Approved"
    assert output["decision"]["metrics"]["regression_metrics"]["r2"]["value"] > 0.2

    monthly = aws.monthly_run("byom-diabetes", "2030-01")

    assert monthly["status"] == "SUCCEEDED"
    loaded = rows(aws, monthly["name"], "predicted_value")
    assert len(loaded) == len(tables["diabetes"][1]) and all(25 < value < 346 for (value,) in loaded)  # the target's range


def test_a_worse_regression_is_rejected_because_its_rmse_regressed_too_far(aws, trained):
    runs, (first_config, worse_config) = trained
    (run,) = runs["weight-worse"]

    decision = output_of(aws, run)["decision"]

    assert output_of(aws, run)["registration"]["status"] == "Rejected"
    reason = next(r for r in decision["reasons"] if "vs approved" in r)
    assert reason.startswith("✗ rmse ") and "lower is better" in reason and "largest allowed regression 5% of it" in reason
    assert worse_config["model"]["code_uri"] == first_config["model"]["code_uri"]  # the same folder: the same bundle
    assert ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).approved("byom-weight").version == 1


def test_a_binary_classifier_with_real_column_names_is_judged_on_auc_and_predicts_labels_with_scores(aws, trained, tables):
    runs, _ = trained
    (run,) = runs["cancer"]
    assert succeeded(aws, run)
    metrics = output_of(aws, run)["decision"]["metrics"]["binary_classification_metrics"]
    assert metrics["auc"]["value"] > 0.95 and {"f1", "precision", "recall", "accuracy"} <= set(metrics)

    monthly = aws.monthly_run("byom-cancer", "2030-01")

    assert monthly["status"] == "SUCCEEDED"
    loaded = rows(aws, monthly["name"], "predicted_label, predicted_value, probabilities")
    assert len(loaded) == len(tables["cancer"][1])
    assert {label for label, _, _ in loaded} == {"0", "1"} and all(value is None for _, value, _ in loaded)
    assert set(json.loads(loaded[0][2])) == {"0", "1"}


def test_a_multiclass_built_in_model_is_judged_on_weighted_f1(aws, trained, tables):
    runs, _ = trained
    (run,) = runs["wine"]
    assert succeeded(aws, run)
    metrics = output_of(aws, run)["decision"]["metrics"]["multiclass_classification_metrics"]
    assert metrics["weighted_f1"]["value"] > 0.8 and "macro_f1" in metrics

    request = json.dumps({"schema_version": 1, "model_name": "byom-wine"})
    aws.s3.put_object(Bucket=aws.bucket, Key="configs/infer/byom-wine.json", Body=request)
    aws.stack.runtime.wait_idle()
    (on_demand,) = aws.runs("infer-byom-wine-on-demand-", machine="inference", timeout=180)

    assert on_demand["status"] == "SUCCEEDED"
    assert {label for (label,) in rows(aws, on_demand["name"], "predicted_label")} <= {"barolo", "grignolino", "barbera"}


def failed_run(aws, folder, model_name, **config):
    aws.drop_code_config(folder, model_name, **config)
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{model_name}-", timeout=240)
    assert run["status"] == "FAILED"
    return run, aws.sfn.describe_execution(executionArn=run["executionArn"])


def test_a_headerless_script_reading_every_file_of_its_channels_trains_and_serves_with_the_default_functions(aws, tmp_path):
    shutil.copytree(CODE / "headerless", tmp_path / "headerless")
    data = {**valid_config()["data"], "feature_columns": ["length_cm", "width_cm", "height_cm", "weight_g"],
            "layout": "label_first", "validation_channel": "test"}

    aws.drop_code_config(tmp_path / "headerless", "byom-headerless", data=data, model={"hyperparameters": {"n_estimators": 20}})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs("train-byom-headerless-", timeout=240)

    assert run["status"] == "SUCCEEDED", aws.sfn.describe_execution(executionArn=run["executionArn"]).get("cause")
    # the train channel as the script read it: one headerless CSV, the label first; schema.json in a channel of its own
    split = f"runs/byom-headerless/{run['name']}/split"
    listed = aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix=f"{split}/")["Contents"]
    assert sorted(o["Key"].removeprefix(split) for o in listed if "/train/" in o["Key"] or "/schema/" in o["Key"]) == [
        "/schema/schema.json", "/train/train.csv"]
    first = aws.s3.get_object(Bucket=aws.bucket, Key=f"{split}/train/train.csv")["Body"].read().decode().splitlines()[0].split(",")
    assert len(first) == 5 and first[0] in PACKAGE_TYPES, first
    # judged on the held-out rows the default serving predicted (the container's: CSV rows in, one label per line out)
    evaluation = f"runs/byom-headerless/{run['name']}/evaluation/metrics.json"
    metrics = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=evaluation)["Body"].read())
    assert metrics["multiclass_classification_metrics"]["accuracy"]["value"] > 0.5
    assert ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version("byom-headerless", 1) is not None


def test_a_crashing_script_fails_its_step_with_its_own_error_in_the_run_and_the_alert(aws, tmp_path):
    shutil.copytree(CODE / "crashing", tmp_path / "crashing")

    run, execution = failed_run(aws, tmp_path / "crashing", "byom-crashing")

    assert ("step Train: AlgorithmError: ValueError: the learning rate must be positive, got -0.5 "
            "(train.py, line 9, in <module>)") in execution["cause"]  # the line of the team's code, not of a library
    (post,) = aws.slack_posts(run["name"])
    assert "the learning rate must be positive, got -0.5 (train.py, line 9, in <module>)" in json.dumps(post)
    assert f"mlrelay runs logs {run['name']} --step Train" in json.dumps(post)  # where the whole traceback is
    assert aws.run_record(run["name"])["failed_state"] == "WaitForTrainingPipeline"


def test_code_that_writes_no_model_fails_at_train_saying_so_not_at_the_step_that_met_the_empty_model(aws, tmp_path):
    shutil.copytree(CODE / "no_model", tmp_path / "no_model")

    run, execution = failed_run(aws, tmp_path / "no_model", "byom-no-model")

    cause = execution["cause"]
    assert cause.startswith("SageMaker pipeline execution failed: step Train: AlgorithmError: "
                            "the training code wrote no files to SM_MODEL_DIR (s3://"), cause
    assert f"/runs/byom-no-model/{run['name']}/model/" in cause  # the run's own, under its model
    # the step that met the empty model says what it missed, at its container path as on AWS
    assert ("/model.tar.gz holds none); then step TransformValidation: AlgorithmError: FileNotFoundError: [Errno 2] "
            "No such file or directory: '/opt/ml/model/model.joblib' (train.py, line 9, in model_fn)") in cause
    (post,) = aws.slack_posts(run["name"])
    text = json.dumps(post, ensure_ascii=False)
    assert "the training code wrote no files to SM_MODEL_DIR" in text and "--with-config" in text  # fix the code, then resume


def test_a_script_past_its_maximum_runtime_is_stopped_and_fails_its_step_with_sagemakers_reason(aws, tmp_path):
    shutil.copytree(CODE / "looping", tmp_path / "looping")
    started = time.monotonic()

    # the stack's clock runs at a tenth of real time: the 60 s limit stops the job after about 6 s
    run, execution = failed_run(aws, tmp_path / "looping", "byom-looping", training={"max_runtime_minutes": 1})

    assert ("step Train: MaxRuntimeExceeded: Training job reached the maximum runtime of 60 seconds "
            "(StoppingCondition.MaxRuntimeInSeconds) and was stopped") in execution["cause"]
    assert time.monotonic() - started < 60
    assert aws.run_record(run["name"])["failed_state"] == "WaitForTrainingPipeline"


def test_a_requirement_that_cannot_be_installed_fails_the_step_with_pips_error(aws, tmp_path):
    folder = tmp_path / "unknown"
    shutil.copytree(CODE / "classifier", folder)
    (folder / "requirements.txt").write_text("mlrelay-no-such-package-anywhere==0.0.1\n")

    run, execution = failed_run(aws, folder, "byom-unknown-requirement")

    assert "requirements.txt could not be installed" in execution["cause"]
    assert "mlrelay-no-such-package-anywhere" in execution["cause"]


def test_requirements_are_installed_once_then_the_environment_is_reused(aws, tables, tmp_path):
    folder = tmp_path / "needs"
    shutil.copytree(CODE / "classifier", folder)
    (folder / "train.py").write_text("import tabulate  # from requirements.txt\n" + (folder / "train.py").read_text())
    (folder / "requirements.txt").write_text("tabulate==0.9.0\n")

    cancer = data(*tables["cancer"])
    first = aws.drop_code_config(folder, "byom-needs-a", task="binary_classification", data=cancer, approval={"metric": "f1"})
    aws.stack.runtime.wait_idle()
    aws.runs("train-byom-needs-a-", timeout=240)  # the first run has ended before the second starts
    aws.drop_code_config(folder, "byom-needs-b", task="binary_classification", data=cancer, approval={"metric": "f1"})
    aws.stack.runtime.wait_idle()

    logs = {}
    for name in ("byom-needs-a", "byom-needs-b"):
        (run,) = aws.runs(f"train-{name}-", timeout=240)
        assert succeeded(aws, run), name
        execution_id = output_of(aws, run)["pipeline"]["execution_arn"].rsplit("/", 1)[-1]
        logs[name] = (aws.stack.log_dir / "pipelines" / execution_id / "Train.log").read_text()
    assert "(installed," in logs["byom-needs-a"] and "(cached," not in logs["byom-needs-a"]
    assert "(cached," in logs["byom-needs-b"] and "pip install" not in logs["byom-needs-b"]
    assert first["model"]["code_uri"].endswith("/sourcedir.tar.gz")


def test_a_framework_this_machine_does_not_run_says_so_and_fails_only_locally(aws, tmp_path):
    shutil.copytree(CODE / "classifier", tmp_path / "hf")

    _, execution = failed_run(aws, tmp_path / "hf", "byom-hf", model={"framework": "huggingface"},
                              training={"instance_type": "ml.g5.xlarge"})

    assert ("LocalRunnerError: the embedded stack runs training for scikit-learn, XGBoost and PyTorch code; huggingface "
            "4.49.0 code runs on AWS, not on this machine: its training image is GPU-only") in execution["cause"]


def test_a_config_naming_a_local_folder_is_refused_at_the_drop(aws):
    document = {"schema_version": 1, "model_name": "byom-folder", "model": {"framework": "xgboost", "source_dir": "model"},
                "task": "regression", "approval": {"metric": "rmse"},
                "data": {"uri": f"s3://{DATA}/byom/diabetes.csv", "label_column": "target", "feature_columns": ["bmi"]}}

    aws.drop("configs/train/byom-folder.json", json.dumps(document).encode())

    report = aws.read_json("configs/train/byom-folder.json.error.json")
    assert [p["path"] for p in report["problems"]] == ["model.source_dir"]
    assert "mlrelay local drop" in report["problems"][0]["message"]
    assert aws.runs("train-byom-folder-", timeout=0) == []
