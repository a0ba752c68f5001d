"""GIVEN an approved model whose predictions are loaded, WHEN labels arrive under labels/<model>/, THEN they are judged
against the stored predictions in the training evaluation's metrics document; a drop alerts and starts retraining."""

import json

import pandas as pd
import pytest

from chalicelib.shared.naming import execution_name, upload_identity
from tests.functional.conftest import DATA_BUCKET

pytestmark = pytest.mark.functional

MODEL = "quality-model"
LABEL = "package_type"


@pytest.fixture(scope="module")
def catalogue(aws):
    """The model trained, and its predictions for the whole catalogue loaded by one on-demand run."""
    aws.drop_training_config(MODEL, monitoring={"retrain_on_quality_drop": True})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{MODEL}-", timeout=180)
    assert run["status"] == "SUCCEEDED", run
    aws.on_demand_input(MODEL)
    return pd.read_csv(aws.s3.get_object(Bucket=DATA_BUCKET, Key="catalogue/train.csv")["Body"], dtype={"item_id": str})


def drop_labels(aws, name, frame):
    key = f"labels/{MODEL}/{name}.csv"
    put = aws.drop(key, frame.to_csv(index=False).encode())
    run_id = execution_name("quality", MODEL, aws.bucket, key, upload_identity(put["VersionId"], put["ETag"]))
    (run,) = aws.runs(run_id, machine="inference", timeout=180)
    return run


def quality_notices(aws, run_id):
    return aws.notifications_for(lambda m: m.get("kind") == "model_quality_measured" and m["run_id"] == run_id)


def test_true_labels_hold_the_quality_measured_at_training(aws, catalogue):
    labels = catalogue.sample(400, random_state=1)[["item_id", LABEL]]

    run = drop_labels(aws, "true", labels)

    assert run["status"] == "SUCCEEDED"
    metrics = aws.read_json(f"runs/{MODEL}/{run['name']}/quality/metrics.json")
    assert metrics["task"] == "multiclass_classification"
    assert metrics["multiclass_classification_metrics"]["macro_f1"]["value"] > 0.6
    assert metrics["data"]["matched_rows"] == metrics["data"]["labelled_rows"] == 400
    record = aws.run_record(run["name"])
    assert (record["status"], record["quality_metric"], record["quality_dropped"]) == ("SUCCEEDED", "macro_f1", False)
    (notice,) = quality_notices(aws, run["name"])
    assert not notice["dropped"] and notice["retraining_run_id"] is None
    assert not aws.slack_posts(run["name"], timeout=2)  # good news is not news by default (notify_on)


def test_labels_for_items_never_predicted_fail_the_run_saying_so(aws, catalogue):
    labels = pd.DataFrame({"item_id": ["x-1", "x-2"], LABEL: ["BOX", "BAG"]})

    run = drop_labels(aws, "unknown-items", labels)

    assert run["status"] == "FAILED"
    (message,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert message["state"] == "WaitForInferencePipeline"
    assert "none of the 2 labelled items has a prediction by version 1" in message["cause"]


def test_a_quality_drop_alerts_and_starts_retraining(aws, catalogue):
    labels = catalogue.sample(400, random_state=2)[["item_id", LABEL]]
    labels[LABEL] = labels[LABEL].sample(frac=1, random_state=3).to_numpy()  # shuffled: the model looks wrong
    labels = pd.concat([labels, pd.DataFrame({"item_id": ["never-predicted"], LABEL: ["BOX"]})])

    run = drop_labels(aws, "shuffled", labels)

    assert run["status"] == "SUCCEEDED"
    assert aws.run_record(run["name"])["quality_dropped"] is True
    (notice,) = quality_notices(aws, run["name"])
    assert notice["dropped"] and notice["value"] < notice["training_value"] - 0.01
    assert (notice["labelled_rows"], notice["matched_rows"]) == (401, 400)
    (post,) = aws.slack_posts(run["name"])
    assert post["text"].startswith(f"📉 {MODEL} v1: quality dropped on 400 labelled items (macro_f1 ")
    assert "✗ macro_f1" in json.dumps(post, ensure_ascii=False)
    (retraining,) = aws.runs(notice["retraining_run_id"], timeout=180)
    assert retraining["name"].startswith(f"train-{MODEL}-retrain-")
    assert retraining["status"] == "SUCCEEDED"


def test_labels_for_a_version_with_no_loaded_predictions_fail_before_any_job(aws, catalogue):
    # the retraining above promoted version 2, which has predicted nothing yet
    run = drop_labels(aws, "too-early", catalogue.head(10)[["item_id", LABEL]])

    assert run["status"] == "FAILED"
    (message,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert (message["state"], message["error"]) == ("PrepareInference", "NoStoredPredictionsError")
    assert f"model '{MODEL}' version 2 has no loaded predictions" in message["cause"]


def test_labels_outside_a_model_folder_are_rejected_with_a_report(aws):
    key = "labels/Not_A_Model/labels.csv"

    aws.drop(key, b"item_id,package_type\n1,BOX\n")

    report = aws.read_json(key + ".error.json")
    assert report["problems"][0]["path"] == "key"
    assert "labels/<model name>/<file>.csv" in report["problems"][0]["message"]
