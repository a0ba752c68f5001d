"""The inference workflow's Lambda steps, run on in-memory fakes."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.aws.sagemaker import PipelineDescription
from chalicelib.inference.plan import NoApprovedModelError, RowCountMismatchError
from chalicelib.inference.requests import CountStep, LoadStep, PrepareStep, VerifyStep
from chalicelib.inference.steps import count, load, prepare, verify
from tests.conftest import ROOT, valid_config
from tests.unit.fakes import FakePorts

MODEL = "packaging-type"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/packaging-type/3"
CONTAINER = {
    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    "ModelDataUrl": "s3://artifacts/runs/packaging-type/train-pt-3/model/job/output/model.tar.gz",
    "Environment": {"SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://artifacts/code/sourcedir.tar.gz"},
}
MONDAY = datetime(2026, 11, 23, 5, tzinfo=UTC)
RUN = {"run_id": "infer-packaging-type-daily-2026-11-23", "model_name": MODEL, "mode": "daily", "scheduled_for": MONDAY}

STACK_ROLE = "arn:aws:iam::123456789012:role/mlrelay-test-sagemaker-execution"


@pytest.fixture
def ports():
    ports = FakePorts()
    version = ports.s3.put("b", "configs/train/packaging-type.json", json.dumps(valid_config()).encode())
    ports.registry.ensure_group(MODEL, "")
    for _ in range(3):
        arn = ports.registry.register(MODEL, "Approved", "", CONTAINER, {})
    assert arn == PACKAGE
    record = VersionRecord(MODEL, 3, "Approved", "train-pt-3", PACKAGE, {}, {}, "2026-11-01T00:00:00+00:00",
                           {"bucket": "b", "key": "configs/train/packaging-type.json", "version_id": version})
    ports.models.put(record)
    ports.models.point_to(record)
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{RUN['run_id']}/predictions/summary.json", {"rows": 6, "per_class": {"BOX": 6}})
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/{RUN['run_id']}/monitoring/monitoring.json", {"explanations": None})
    definition = json.loads((ROOT / "pipelines" / "inference.pipeline.json").read_text().replace("${SageMakerRoleArn}", STACK_ROLE))
    ports.pipelines.pipelines[ports.inference_pipeline] = PipelineDescription(definition, STACK_ROLE)
    return ports


def test_without_an_approved_model_there_is_nothing_to_predict_with():
    with pytest.raises(NoApprovedModelError, match="'never-trained' has no approved version"):
        prepare(PrepareStep(step="prepare", **{**RUN, "model_name": "never-trained"}), FakePorts())


def test_the_approved_models_container_becomes_the_inference_pipelines_parameters(ports):
    settings = prepare(PrepareStep(step="prepare", **RUN), ports)

    parameters = {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}
    assert (parameters["ModelImageUri"], parameters["ModelDataUrl"]) == (CONTAINER["Image"], CONTAINER["ModelDataUrl"])
    assert parameters["ModelCodeUri"] == "s3://artifacts/code/sourcedir.tar.gz"
    assert (settings["model_version"], settings["model_package_arn"]) == (3, PACKAGE)
    # the model's own copy of the pipeline: its serving code runs as the model's role
    copy = ports.pipelines.pipelines[settings["pipeline_name"]]
    assert settings["pipeline_name"].startswith(ports.inference_pipeline + "-") and copy.role_arn == ports.model_roles.roles[MODEL]
    assert STACK_ROLE not in json.dumps(copy.definition)
    assert (parameters["ModelName"], parameters["RunId"]) == (MODEL, RUN["run_id"])  # outputs under runs/<model>/<run>/
    assert parameters["RunSpecUri"].startswith(f"s3://{ports.artifact_bucket}/runs/{MODEL}/{RUN['run_id']}/spec-")
    # the baseline is the training run's, beside the version's registered model
    assert parameters["BaselineUri"] == "s3://artifacts/runs/packaging-type/train-pt-3/evaluation/"


def test_a_version_trained_when_runs_were_kept_by_run_id_alone_finds_its_baseline_beside_its_model(ports):
    ports.registry.packages[PACKAGE]["container"] = {**CONTAINER, "ModelDataUrl": "s3://artifacts/runs/train-pt-3/model/job/output/model.tar.gz"}

    parameters = {p["Name"]: p["Value"] for p in prepare(PrepareStep(step="prepare", **RUN), ports)["pipeline_parameters"]}

    assert parameters["BaselineUri"] == "s3://artifacts/runs/train-pt-3/evaluation/"


def test_a_version_whose_model_is_in_no_training_runs_folder_is_refused_naming_its_artifact(ports):
    ports.registry.packages[PACKAGE]["container"] = {**CONTAINER, "ModelDataUrl": "s3://elsewhere/model.tar.gz"}

    with pytest.raises(ValueError, match="s3://elsewhere/model.tar.gz is not in a training run's model/ folder"):
        prepare(PrepareStep(step="prepare", **RUN), ports)


def test_a_daily_run_selects_from_the_last_successful_daily_run(ports):
    ports.watermarks.advance(MODEL, date(2026, 11, 20), "infer-packaging-type-daily-2026-11-20")

    settings = prepare(PrepareStep(step="prepare", **RUN), ports)

    assert settings["window"] == {"since": "2026-11-20", "until": "2026-11-23"}


def test_the_load_is_one_batch_that_a_retry_does_not_submit_again(ports):
    first = load(LoadStep(step="load", model_version=3, execution=RUN["run_id"], **RUN), ports)
    again = load(LoadStep(step="load", model_version=3, execution=RUN["run_id"], **RUN), ports)
    resumed = load(LoadStep(step="load", model_version=3, execution=RUN["run_id"] + "-r1", **RUN), ports)

    assert first == again and resumed["statement_id"] != first["statement_id"]
    (copy,) = [sql for sql in ports.warehouse.statements[first["statement_id"]]["sqls"] if sql.startswith("COPY")]
    assert f"s3://{ports.artifact_bucket}/runs/{MODEL}/{RUN['run_id']}/predictions/manifest.json" in copy
    assert first["expected_rows"] == 6


def test_a_row_count_mismatch_fails_the_run_and_moves_nothing(ports):
    statement = count(CountStep(step="count", execution=RUN["run_id"], **RUN), ports)["statement_id"]
    ports.warehouse.results[statement] = [[7]]

    with pytest.raises(RowCountMismatchError, match="mlrelay.predictions holds 7 rows .* produced 6"):
        verify(VerifyStep(step="verify", model_version=3, count_statement_id=statement, window_until="2026-11-23", **RUN), ports)

    assert ports.watermarks.last_until(MODEL) is None
    assert ports.row_counts.last == {}


def test_a_verified_load_moves_the_watermark_and_tells_people(ports):
    statement = count(CountStep(step="count", execution=RUN["run_id"], **RUN), ports)["statement_id"]
    ports.warehouse.results[statement] = [[6]]

    verified = verify(VerifyStep(step="verify", model_version=3, count_statement_id=statement, window_until="2026-11-23", **RUN), ports)

    assert verified["rows_loaded"] == 6
    assert verified["notification"]["kind"] == "predictions_loaded" and verified["notification"]["table"] == "mlrelay.predictions"
    assert ports.watermarks.last_until(MODEL) == date(2026, 11, 23)
    assert ports.row_counts.last[(MODEL, "daily")] == (6, RUN["run_id"])


def test_an_on_demand_request_that_names_a_table_loads_counts_and_reports_there(ports):
    run = {**RUN, "mode": "on_demand", "predictions_table": "scratch.canary_dev"}

    batch = ports.warehouse.statements[load(LoadStep(step="load", model_version=3, **run), ports)["statement_id"]]["sqls"]
    statement = count(CountStep(step="count", **run), ports)["statement_id"]
    ports.warehouse.results[statement] = [[7]]

    assert [sql for sql in batch if sql.startswith("INSERT")][0].startswith("INSERT INTO scratch.canary_dev ")
    assert not any("mlrelay.predictions" in sql for sql in batch)
    with pytest.raises(RowCountMismatchError, match="scratch.canary_dev holds 7 rows"):
        verify(VerifyStep(step="verify", model_version=3, count_statement_id=statement, **run), ports)
    ports.warehouse.results[statement] = [[6]]
    verified = verify(VerifyStep(step="verify", model_version=3, count_statement_id=statement, **run), ports)
    # the scratch rows are no baseline for the model's next on-demand run
    assert verified["rows_loaded"] == 6 and verified["notification"]["previous_rows"] is None
    assert ports.row_counts.swap(MODEL, "on_demand", 6, "next") is None


def test_an_approved_version_whose_artifact_was_written_over_is_refused_naming_model_version_and_key(ports):
    from chalicelib.shared.artifacts import ArtifactChangedError

    uri = CONTAINER["ModelDataUrl"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    ports.s3.put(bucket, key, b"the registered model")
    registered = ports.s3.fingerprint(uri)
    record = ports.models.approved(MODEL)
    ports.models.put(replace(record, artifact={"uri": uri, "version_id": registered.version_id, "sha256": registered.sha256}))

    assert prepare(PrepareStep(step="prepare", **RUN), ports)["model_version"] == 3  # the same bytes: used
    ports.s3.put(bucket, key, b"the registered model")  # written again, say restored: a new version, the same model
    assert prepare(PrepareStep(step="prepare", **RUN), ports)["model_version"] == 3
    ports.s3.put(bucket, key, b"another model's artifact")
    with pytest.raises(ArtifactChangedError, match=rf"model {MODEL} v3's artifact {uri} is not the one it was registered with "
                                                   r"\(version v1, sha256 \w{12}…; now version v3"):
        prepare(PrepareStep(step="prepare", **RUN), ports)
