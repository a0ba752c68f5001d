"""GIVEN the embedded stack, WHEN models are trained, THEN the registry holds what the rules decided."""

import json

import pytest

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.shared.naming import package_group_name
from tests.conftest import valid_config

pytestmark = pytest.mark.functional

MODEL = "promotion-check"
KEY = f"configs/train/{MODEL}.json"
CLEAN, NOISY = "s3://mlrelay-demo-data/catalogue/train.csv", "s3://mlrelay-demo-data/catalogue/train-noisy.csv"


def config_for(data_uri):
    document = valid_config(model_name=MODEL)
    document["data"] = {**document["data"], "uri": data_uri}
    return json.dumps(document).encode()


@pytest.fixture(scope="module")
def two_versions(aws):
    aws.drop(KEY, config_for(CLEAN))
    (first,) = aws.runs(f"train-{MODEL}-")
    aws.drop(KEY, config_for(NOISY))
    runs = aws.runs(f"train-{MODEL}-")
    (second,) = [r for r in runs if r["name"] != first["name"]]
    return first, second


def output_of(aws, run):
    return json.loads(aws.sfn.describe_execution(executionArn=run["executionArn"])["output"])


def test_the_first_model_is_approved_and_becomes_current(aws, two_versions):
    first, _ = two_versions

    assert first["status"] == "SUCCEEDED"
    output = output_of(aws, first)
    assert output["registration"]["status"] == "Approved"
    assert output["decision"]["baseline_version"] is None
    metrics = output["decision"]["metrics"]
    accuracy = metrics["multiclass_classification_metrics"]["accuracy"]
    assert accuracy["value"] > metrics["data"]["majority_class_rate"] and accuracy["standard_deviation"] > 0
    assert aws.run_record(first["name"])["decision"] == "Approved"


def test_a_worse_model_is_rejected_with_the_metric_drop_and_the_pointer_stays(aws, two_versions):
    first, second = two_versions

    assert second["status"] == "SUCCEEDED"
    decision = output_of(aws, second)["decision"]
    assert not decision["promote"]
    assert decision["baseline_version"] == 1
    drop = next(r for r in decision["reasons"] if "vs approved" in r)
    assert drop.startswith("✗ macro_f1 ")
    assert decision["deltas"]["macro_f1"] < -0.01
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    assert {v.version: v.status for v in versions.versions(MODEL)} == {1: "Approved", 2: "Rejected"}
    assert versions.approved(MODEL).run_id == first["name"]


def test_the_sagemaker_registry_agrees_and_keeps_the_reasons(aws, two_versions):
    sagemaker = aws.stack.client("sagemaker")
    packages = sagemaker.list_model_packages(ModelPackageGroupName=package_group_name("dev", MODEL))["ModelPackageSummaryList"]

    statuses = {int(p["ModelPackageArn"].rsplit("/", 1)[-1]): p["ModelApprovalStatus"] for p in packages}
    assert statuses == {1: "Approved", 2: "Rejected"}
    arn = next(p["ModelPackageArn"] for p in packages if p["ModelPackageArn"].endswith("/2"))
    rejected = sagemaker.describe_model_package(ModelPackageName=arn)
    assert "vs approved" in rejected["ModelPackageDescription"]
    container = rejected["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"].endswith("/output/model.tar.gz")
    bucket, key = container["ModelDataUrl"].removeprefix("s3://").split("/", 1)
    assert aws.s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_both_outcomes_reach_the_notifications_path(aws, two_versions):
    mine = aws.notifications_for(lambda n: n.get("model_name") == MODEL and n["kind"].startswith("model_"))
    mine.sort(key=lambda n: n["version"])

    assert [(n["kind"], n["version"]) for n in mine] == [("model_promoted", 1), ("model_rejected", 2)]
    assert mine[1]["deltas"]["macro_f1"] < 0
    posted = [m.message["text"] for m in aws.stack.slack.messages]
    assert f"✅ {MODEL} v1 promoted" in posted and f"🚫 {MODEL} v2 rejected" in posted


def test_duplicate_pipeline_status_events_do_not_break_a_run(aws, two_versions):
    first, _ = two_versions
    pipeline_arn = output_of(aws, first)["pipeline"]["execution_arn"]
    event = json.loads((aws.stack.project_root / "events" / "on_pipeline_status.json").read_text())
    event["detail"].update(pipelineExecutionArn=pipeline_arn, pipelineArn=pipeline_arn.split("/execution/")[0])

    answers = [aws.invoke("on_pipeline_status", event) for _ in range(2)]

    assert [a["outcome"] for a in answers] == ["duplicate", "duplicate"]
    assert aws.sfn.describe_execution(executionArn=first["executionArn"])["status"] == "SUCCEEDED"
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    assert len(versions.versions(MODEL)) == 2


def test_a_candidate_judged_before_another_run_promoted_its_version_is_judged_again_against_that_one(aws):
    # GIVEN run A (the noisy table) judged against no approved version, and stopped before it registers
    model = "promotion-race"
    key = f"configs/train/{model}.json"
    fault = aws.stack.faults.fail_state(f"train-{model}-", "RegisterApprovedModel", times=1)

    def config(uri):
        document = valid_config(model_name=model, inference={"daily": False, "monthly": False})
        return json.dumps({**document, "data": {**document["data"], "uri": uri}}).encode()

    try:
        aws.drop(key, config(NOISY))
        (a,) = aws.runs(f"train-{model}-")
        # WHEN run B (the clean table, better) is promoted meanwhile, and A then registers
        aws.drop(key, config(CLEAN))
        (b,) = [r for r in aws.runs(f"train-{model}-") if r["name"] != a["name"]]
        resumed = aws.invoke("resume_run", {"run_id": a["name"]})
        (a_again,) = aws.runs(f"{a['name']}-r")
    finally:
        aws.stack.faults.remove(fault)

    # THEN A is judged again against B's version, rejected, and the pointer stays on B's
    assert a["status"] == "FAILED" and b["status"] == "SUCCEEDED" and resumed["from_state"] == "RegisterApprovedModel"
    assert a_again["status"] == "SUCCEEDED"
    registration = output_of(aws, a_again)["registration"]
    assert registration["status"] == "Rejected" and registration["notification"]["kind"] == "model_rejected"
    reasons = registration["notification"]["reasons"]
    assert reasons[0] == "judged again against v1: the approved version moved from none while this run was judged"
    assert any(r.startswith("✗ macro_f1 ") for r in reasons)
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    assert {v.version: (v.run_id, v.status) for v in versions.versions(model)} == {
        1: (b["name"], "Approved"), 2: (a["name"], "Rejected")}
    assert versions.approved(model).run_id == b["name"]
    sagemaker = aws.stack.client("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=registration["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Rejected"
