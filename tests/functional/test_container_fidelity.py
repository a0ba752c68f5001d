"""GIVEN code written as SageMaker's examples write it, THEN it runs as its container would: the image's libraries,
its modules, its default serving, for scikit-learn, XGBoost and PyTorch.

The environments are the images' own pinned libraries (mlrelay/local/image_libraries.py): `make test` builds
them before the functional tests; a session without them builds them on first use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.synthetic import PACKAGE_TYPES, synthesize
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import ROOT, valid_config

pytestmark = pytest.mark.functional

DATA = "mlrelay-demo-data"
CODE = ROOT / "tests" / "functional" / "code"
SIZES = ["length_cm", "width_cm", "height_cm"]


def finished(aws, model_name):
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{model_name}-", timeout=300)
    return run, aws.sfn.describe_execution(executionArn=run["executionArn"])


def train_log(aws, pipeline_execution_arn):
    return (aws.stack.log_dir / "pipelines" / pipeline_execution_arn.rsplit("/", 1)[-1] / "Train.log").read_text()


def test_code_that_passes_with_this_machines_scikit_learn_fails_with_the_images_as_on_aws(aws, tmp_path):
    rows = synthesize(400, seed=11)
    rows.loc[rows.index % 7 == 0, "weight_g"] = np.nan  # a tree of scikit-learn 1.2.1 refuses a missing value
    aws.s3.put_object(Bucket=DATA, Key="byom/with-gaps.csv", Body=rows.to_csv(index=False).encode())
    shutil.copytree(CODE / "nan_tree", tmp_path / "nan_tree")
    # with this machine's scikit-learn (1.3 and later fit trees on NaN), the same script on the same rows passes
    channel = tmp_path / "channel"
    channel.mkdir()
    rows[["package_type", *SIZES, "weight_g"]].to_csv(channel / "train.csv", index=False)
    (channel / "schema.json").write_text(json.dumps({"label": "package_type", "features": [*SIZES, "weight_g"]}))
    here = subprocess.run([sys.executable, str(tmp_path / "nan_tree" / "train.py")], capture_output=True, text=True,
                          env={**os.environ, "SM_CHANNEL_TRAIN": str(channel), "SM_MODEL_DIR": str(tmp_path)})
    assert here.returncode == 0, here.stderr

    data = {**valid_config()["data"], "uri": f"s3://{DATA}/byom/with-gaps.csv", "feature_columns": [*SIZES, "weight_g"]}
    aws.drop_code_config(tmp_path / "nan_tree", "byom-nan-tree", data=data)
    run, execution = finished(aws, "byom-nan-tree")

    assert run["status"] == "FAILED"
    assert "step Train: AlgorithmError: ValueError: Input X contains NaN." in execution["cause"], execution["cause"]
    (pipeline_execution,) = re.findall(r"arn:aws:sagemaker:[^ )]+/execution/\w+", execution["cause"])
    assert "/sklearn-1.2-1-" in train_log(aws, pipeline_execution)  # the image's environment ran it


@pytest.mark.parametrize("version", ["1.7-1", "3.0-5"])
def test_an_xgboost_script_reading_libsvm_with_the_containers_modules_trains_serves_and_predicts(aws, tmp_path, version):
    model_name = f"byom-libsvm-{version.replace('.', '-')}"
    shutil.copytree(CODE / "xgboost_libsvm", tmp_path / "xgboost_libsvm")
    data = {"uri": f"s3://{DATA}/catalogue/train.csv", "label_column": "weight_g", "feature_columns": SIZES,
            "layout": "libsvm"}
    hyperparameters = {"max_depth": 4, "eta": 0.3, "objective": "reg:squarederror", "num_round": 30}
    aws.drop_code_config(tmp_path / "xgboost_libsvm", model_name, task="regression", data=data,
                         approval={"metric": "rmse"},
                         model={"framework": "xgboost", "framework_version": version, "hyperparameters": hyperparameters},
                         inference={"daily": False, "monthly": True, "id_column": "item_id"})
    run, execution = finished(aws, model_name)

    assert run["status"] == "SUCCEEDED", execution.get("cause")
    split = f"runs/{model_name}/{run['name']}/split"
    lines = aws.s3.get_object(Bucket=aws.bucket, Key=f"{split}/train/train.libsvm")["Body"].read().decode().splitlines()
    label, *cells = lines[0].split()
    assert float(label) > 0 and [cell.split(":")[0] for cell in cells] == ["1", "2", "3"]
    transform_input = aws.s3.get_object(Bucket=aws.bucket, Key=f"{split}/transform_input/features.libsvm")["Body"].read()
    assert transform_input.decode().startswith("0 1:")  # what the container's libsvm input_fn receives: no label
    evaluation = f"runs/{model_name}/{run['name']}/evaluation/metrics.json"
    metrics = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=evaluation)["Body"].read())
    assert metrics["regression_metrics"]["r2"]["value"] > 0.5, metrics["regression_metrics"]

    # the monthly predictions: the catalogue in libsvm lines through the same default serving, into the warehouse
    run_statement(aws.data, connection_from(aws.stack.info.outputs),
                  sqls=create_table_sqls(PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))))
    inference = aws.monthly_run(model_name, "2026-11")
    assert inference["status"] == "SUCCEEDED", aws.sfn.describe_execution(executionArn=inference["executionArn"]).get("cause")
    values = aws.stack.warehouse.query(f"SELECT predicted_value FROM mlrelay.predictions WHERE run_id = '{inference['name']}'")
    assert len(values) == 1500 and len({value for (value,) in values}) > 100  # a weight per item, not one for all


def test_an_xgboost_classifier_on_libsvm_learns_class_indices_and_its_probability_rows_are_read_as_classes(aws, tmp_path):
    shutil.copytree(CODE / "xgboost_libsvm", tmp_path / "xgboost_libsvm")
    data = {**valid_config()["data"], "feature_columns": [*SIZES, "weight_g"], "layout": "libsvm"}
    hyperparameters = {"max_depth": 4, "eta": 0.3, "objective": "multi:softprob", "num_round": 20,
                       "num_class": len(PACKAGE_TYPES)}
    aws.drop_code_config(tmp_path / "xgboost_libsvm", "byom-libsvm-classes", data=data,
                         model={"framework": "xgboost", "hyperparameters": hyperparameters})
    run, execution = finished(aws, "byom-libsvm-classes")

    assert run["status"] == "SUCCEEDED", execution.get("cause")
    split = f"runs/byom-libsvm-classes/{run['name']}/split"
    labels = {line.split()[0] for line in aws.s3.get_object(
        Bucket=aws.bucket, Key=f"{split}/train/train.libsvm")["Body"].read().decode().splitlines()}
    assert labels == {str(i) for i in range(len(PACKAGE_TYPES))}  # each class as its index in schema.json's classes
    evaluation = f"runs/byom-libsvm-classes/{run['name']}/evaluation/metrics.json"
    metrics = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=evaluation)["Body"].read())
    # one probability per class in each output row, read back as the class names
    assert set(metrics["per_class"]) == set(PACKAGE_TYPES)
    assert metrics["multiclass_classification_metrics"]["accuracy"]["value"] > 0.5


def test_a_pytorch_classifier_trains_and_predicts_with_the_images_torch_and_default_serving(aws, tmp_path):
    shutil.copytree(CODE / "torch_classifier", tmp_path / "torch_classifier")
    data = {**valid_config()["data"], "feature_columns": [*SIZES, "weight_g"], "layout": "label_first"}
    aws.drop_code_config(tmp_path / "torch_classifier", "byom-torch", data=data,
                         model={"framework": "pytorch", "hyperparameters": {"epochs": 150}})
    run, execution = finished(aws, "byom-torch")

    assert run["status"] == "SUCCEEDED", execution.get("cause")
    pipeline_execution = json.loads(execution["output"])["pipeline"]["execution_arn"]
    assert "torch 2.6.0" in train_log(aws, pipeline_execution)  # the image's torch (this machine has none)
    metrics = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=f"runs/byom-torch/{run['name']}/evaluation/metrics.json")["Body"].read())
    assert metrics["multiclass_classification_metrics"]["accuracy"]["value"] > 0.5
    assert ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version("byom-torch", 1) is not None
