"""Quality runs on fakes: which stored predictions labels are judged against, the verdict, and the retraining it starts."""

import json
from datetime import UTC, datetime

import pytest

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.inference.quality import NoStoredPredictionsError
from chalicelib.inference.quality_steps import judge_quality
from chalicelib.inference.requests import CountStep, PrepareStep, QualityStep, VerifyStep
from chalicelib.inference.steps import count, prepare, verify
from chalicelib.intake.plan import DroppedObject, RejectConfig, StartInference, plan_labels_drop
from tests.conftest import valid_config
from tests.unit.fakes import FakePorts

MODEL = "packaging-type"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/packaging-type/1"
WHEN = datetime(2026, 12, 1, 9, tzinfo=UTC)
QUALITY = {"run_id": "quality-packaging-type-0123456789abcdef", "model_name": MODEL, "mode": "quality", "scheduled_for": WHEN}
AT_TRAINING = {"task": "multiclass_classification", "multiclass_classification_metrics": {"macro_f1": {"value": 0.86}}}


def metrics(macro_f1, matched=400):
    return {**AT_TRAINING, "multiclass_classification_metrics": {"macro_f1": {"value": macro_f1}},
            "data": {"labelled_rows": matched + 1, "matched_rows": matched}}


def ports_with(**config):
    ports = FakePorts()
    version = ports.s3.put("b", f"configs/train/{MODEL}.json", json.dumps(valid_config(**config)).encode())
    ports.registry.ensure_group(MODEL, "")
    ports.registry.register(MODEL, "Approved", "", {"Image": "i", "ModelDataUrl": "s3://m"}, {})
    record = VersionRecord(MODEL, 1, "Approved", "train-pt-1", PACKAGE, AT_TRAINING, {}, "2026-11-01T00:00:00+00:00",
                           {"bucket": "b", "key": f"configs/train/{MODEL}.json", "version_id": version})
    ports.models.put(record)
    ports.models.point_to(record)
    return ports


def loaded(ports, run_id, parts):
    """A successful inference run of version 1: its COPY manifest, then the verify step that records it."""
    entries = [{"url": f"s3://{ports.artifact_bucket}/runs/{MODEL}/{run_id}/predictions/{p}", "mandatory": True} for p in parts]
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{run_id}/predictions/manifest.json", {"entries": entries})
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{run_id}/predictions/summary.json", {"rows": 5})
    run = {"run_id": run_id, "model_name": MODEL, "mode": "monthly", "scheduled_for": WHEN}
    statement = count(CountStep(step="count", **run), ports)["statement_id"]
    ports.warehouse.results[statement] = [[5]]
    verify(VerifyStep(step="verify", model_version=1, count_statement_id=statement, **run), ports)


def test_labels_under_a_model_folder_plan_a_quality_run_and_anything_else_a_report():
    planned = plan_labels_drop(DroppedObject("bkt", f"labels/{MODEL}/december.csv", "v1", "e", 10, WHEN))
    misplaced = plan_labels_drop(DroppedObject("bkt", "labels/december.csv", "v1", "e", 10, WHEN))
    not_csv = plan_labels_drop(DroppedObject("bkt", f"labels/{MODEL}/december.xlsx", "v1", "e", 10, WHEN))

    assert isinstance(planned, StartInference)
    assert planned.run_id.startswith(f"quality-{MODEL}-")
    assert (planned.request.mode, planned.request.catalogue_uri) == ("quality", f"s3://bkt/labels/{MODEL}/december.csv")
    assert isinstance(misplaced, RejectConfig) and misplaced.report_key == "labels/december.csv.error.json"
    assert isinstance(not_csv, RejectConfig) and "a CSV with a header" in not_csv.report["problems"][0]["message"]


def test_prepare_lists_the_versions_loaded_prediction_files_newest_run_first():
    ports = ports_with()
    loaded(ports, "infer-pt-monthly-2026-10", ["part-0.csv", "part-1.csv"])
    loaded(ports, "infer-pt-daily-2026-11-02", ["part-0.csv"])

    settings = prepare(PrepareStep(step="prepare", catalogue_uri="s3://bkt/labels/x.csv", **QUALITY), ports)

    assert settings["pipeline_name"] == ports.quality_pipeline
    parameters = {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}
    assert parameters["LabelsUri"] == "s3://bkt/labels/x.csv"
    assert (parameters["ModelName"], parameters["RunId"]) == (MODEL, QUALITY["run_id"])  # outputs under runs/<model>/<run>/
    assert parameters["PredictionsManifestUri"] == (
        f"s3://{ports.artifact_bucket}/runs/{MODEL}/{QUALITY['run_id']}/quality-input/predictions.manifest")
    manifest = ports.s3.read_json(ports.artifact_bucket, parameters["PredictionsManifestUri"].split("/", 3)[3], 10_000)
    assert manifest == [
        {"prefix": f"s3://{ports.artifact_bucket}/runs/{MODEL}/"}, "infer-pt-daily-2026-11-02/predictions/part-0.csv",
        "infer-pt-monthly-2026-10/predictions/part-0.csv", "infer-pt-monthly-2026-10/predictions/part-1.csv",
    ]
    spec = ports.s3.read_json(ports.artifact_bucket, parameters["RunSpecUri"].split("/", 3)[3], 10_000)
    assert spec["prediction_runs"] == ["infer-pt-daily-2026-11-02", "infer-pt-monthly-2026-10"]
    assert (spec["id_column"], spec["label_column"]) == ("item_id", "package_type")


def test_prepare_refuses_labels_for_a_version_that_predicted_nothing():
    with pytest.raises(NoStoredPredictionsError, match="version 1 has no loaded predictions"):
        prepare(PrepareStep(step="prepare", catalogue_uri="s3://bkt/labels/x.csv", **QUALITY), ports_with())


@pytest.mark.parametrize(("macro_f1", "dropped"), [(0.855, False), (0.84, True)])
def test_the_verdict_allows_the_approval_sections_regression_and_no_more(macro_f1, dropped):
    ports = ports_with()  # approval.max_regression 0.01
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{QUALITY['run_id']}/quality/metrics.json", metrics(macro_f1))

    verdict = judge_quality(QualityStep(step="quality", model_version=1, **QUALITY), ports)

    notice = verdict["notification"]
    assert (verdict["dropped"], notice["dropped"], notice["training_value"]) == (dropped, dropped, 0.86)
    assert notice["reasons"][0].startswith(("✗ " if dropped else "✓ ") + f"macro_f1 {macro_f1:.4f} vs at training 0.8600")
    assert ports.workflows.started == {}  # the config does not ask for retraining


def test_a_drop_starts_one_retraining_run_of_the_approved_versions_config_when_asked():
    ports = ports_with(monitoring={"retrain_on_quality_drop": True})
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{QUALITY['run_id']}/quality/metrics.json", metrics(0.5))
    request = QualityStep(step="quality", model_version=1, **QUALITY)

    first = judge_quality(request, ports)
    judge_quality(request, ports)  # a retry of the step

    run_id = first["notification"]["retraining_run_id"]
    assert run_id.startswith(f"train-{MODEL}-retrain-")
    assert {arn.rsplit(":", 1)[1]: payload["config"]["key"] for arn, payload in ports.workflows.started.items()} == {
        run_id: f"configs/train/{MODEL}.json",
    }
