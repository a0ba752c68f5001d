"""The training workflow's Lambda steps, run on in-memory fakes: what ends up in the registry and the table."""

import json

import pytest

from chalicelib.aws.errors import NotFoundError
from chalicelib.config.schema import ApprovalCriteria
from chalicelib.shared.messages import ConfigRef
from chalicelib.training.requests import EvaluateStep, LoadConfigStep, RegisterStep
from chalicelib.training.steps import evaluate_candidate, load_training_settings, register_model
from tests.conftest import valid_config
from tests.unit.fakes import FakePipelineExecution, FakePorts

MODEL = "packaging-type"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlrelay-test-training/execution/abc123"
JOB = "arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-abc-train-1"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
METRICS = {
    "accuracy": 0.95, "macro_f1": 0.91, "majority_class_rate": 0.6, "train_rows": 1200,
    "train_label_distribution": {"BOX": 0.6, "BAG": 0.4},
}


@pytest.fixture
def ports():
    ports = FakePorts()
    ports.pipelines.executions[PIPELINE] = FakePipelineExecution(
        definition={"Steps": [{"Name": "CreateModel-CreateModel", "Type": "Model", "Arguments": {"PrimaryContainer": {
            "Image": IMAGE, "Environment": {"SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code.tar.gz"},
        }}}]},
        steps=[{"StepName": "Train", "Metadata": {"TrainingJob": {"Arn": JOB}}}],
    )
    return ports


def register(ports, run_id, approved=True, score=0.91):
    decision = {
        "promote": approved, "summary": "promoted: ✓ ...", "reasons": ["✓ macro_f1 above the floor"],
        "primary_metric": "macro_f1", "candidate_score": score, "baseline_score": None, "baseline_version": None,
        "deltas": {}, "metrics": {**METRICS, "macro_f1": score},
    }
    request = RegisterStep(
        step="register", run_id=run_id, model_name=MODEL, config=ConfigRef(bucket="b", key="configs/train/pt.json"),
        pipeline_execution_arn=PIPELINE, approved=approved, decision=decision,
    )
    return register_model(request, ports)


def test_the_exact_config_version_that_started_the_run_is_read(ports):
    first = ports.s3.put("b", "configs/train/pt.json", json.dumps(valid_config(model_name="first")).encode())
    ports.s3.put("b", "configs/train/pt.json", json.dumps(valid_config(model_name="second")).encode())

    config = ConfigRef(bucket="b", key="configs/train/pt.json", version_id=first)
    settings = load_training_settings(LoadConfigStep(step="load_config", run_id="train-pt-1", config=config), ports)

    assert settings["model_name"] == "first"
    assert {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}["RunId"] == "train-pt-1"


def test_the_first_model_is_judged_on_the_floor_alone(ports):
    ports.s3.put_json(ports.artifact_bucket, "runs/train-pt-1/evaluation/metrics.json", METRICS)

    decision = evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-1", model_name=MODEL, approval=ApprovalCriteria()), ports)

    assert decision["promote"] is True and decision["baseline_version"] is None
    assert decision["metrics"] == METRICS


def test_a_candidate_is_judged_against_the_approved_version(ports):
    register(ports, "train-pt-1", score=0.91)
    ports.s3.put_json(ports.artifact_bucket, "runs/train-pt-2/evaluation/metrics.json", {**METRICS, "macro_f1": 0.7})

    decision = evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-2", model_name=MODEL, approval=ApprovalCriteria()), ports)

    assert decision["promote"] is False and decision["baseline_version"] == 1
    assert any("vs approved 0.9100" in reason for reason in decision["reasons"])


def test_missing_metrics_name_the_run_and_where_they_should_be(ports):
    with pytest.raises(NotFoundError, match="wrote no metrics for run train-pt-9 .*runs/train-pt-9/evaluation/metrics.json"):
        evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-9", model_name=MODEL, approval=ApprovalCriteria()), ports)


def test_a_version_is_registered_exactly_once_however_often_the_step_runs(ports):
    first = register(ports, "train-pt-1")
    again = register(ports, "train-pt-1")

    without_time = [{**r, "notification": {k: v for k, v in r["notification"].items() if k != "occurred_at"}} for r in (first, again)]
    assert without_time[0] == without_time[1]
    assert [(v.version, v.status, v.run_id) for v in ports.models.versions(MODEL)] == [(1, "Approved", "train-pt-1")]
    assert len(ports.registry.packages) == 1
    assert ports.models.approved(MODEL).version == 1
    assert again["notification"]["kind"] == "model_promoted" and again["version"] == 1


def test_a_rejected_version_is_registered_and_the_pointer_stays(ports):
    register(ports, "train-pt-1")

    rejected = register(ports, "train-pt-2", approved=False, score=0.5)

    assert rejected["status"] == "Rejected" and rejected["notification"]["kind"] == "model_rejected"
    assert [(v.version, v.status) for v in ports.models.versions(MODEL)] == [(1, "Approved"), (2, "Rejected")]
    assert ports.models.approved(MODEL).version == 1
    (package,) = [p for arn, p in ports.registry.packages.items() if arn.endswith("/2")]
    assert package["status"] == "Rejected"


def test_the_registered_container_is_the_trained_model_with_the_pipelines_image_and_code(ports):
    result = register(ports, "train-pt-1")

    container = ports.registry.container(result["model_package_arn"])
    assert container == {
        "Image": IMAGE,
        "ModelDataUrl": f"s3://{ports.artifact_bucket}/runs/train-pt-1/model/pipelines-abc-train-1/output/model.tar.gz",
        "Environment": {"SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code.tar.gz"},
    }
    assert ports.models.version(MODEL, 1).metrics == METRICS
