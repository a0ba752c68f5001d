"""The training workflow's Lambda steps, run on in-memory fakes: what ends up in the registry and the table."""

import hashlib
import json
from dataclasses import replace

import pytest

from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.sagemaker import PipelineDescription
from chalicelib.config.judging import PromotionRules
from chalicelib.shared import pinning
from chalicelib.shared.lineage_index import index_key
from chalicelib.shared.messages import ConfigRef, Reproduction
from chalicelib.shared.model_pipelines import copy_name
from chalicelib.shared.pipeline_runs import spec_key
from chalicelib.training.plan import model_data_url
from chalicelib.training.requests import EvaluateStep, LoadConfigStep, RegisterStep
from chalicelib.training.steps import PromotionRaceError, evaluate_candidate, load_training_settings, register_model
from tests.conftest import ROOT, valid_config
from tests.unit.fakes import FakePipelineExecution, FakePorts

MODEL = "packaging-type"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlrelay-test-training/execution/abc123"
JOB = "arn:aws:sagemaker:us-east-1:123456789012:training-job/pipelines-abc-train-1"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CODE = {"framework": "sklearn", "framework_version": "1.2-1", "training_image": IMAGE, "serving_image": IMAGE,
        "code_uri": "s3://b/code/abc/sourcedir.tar.gz", "entry_point": "train.py", "hyperparameters": {"algorithm": "random_forest"},
        "builtin": True}
METRICS = {
    "task": "multiclass_classification",
    "multiclass_classification_metrics": {"accuracy": {"value": 0.95}, "macro_f1": {"value": 0.91}},
    "data": {"train_rows": 1200, "label_distribution": {"BOX": 0.6, "BAG": 0.4}},
}
RULES = PromotionRules(task="multiclass_classification", metric="macro_f1", lower_is_better=False, threshold=0.5,
                       max_regression=0.01, regression_unit="absolute", max_distribution_psi=0.2, max_size_change=0.5)

STACK_ROLE = "arn:aws:iam::123456789012:role/mlrelay-test-sagemaker-execution"


@pytest.fixture
def ports():
    ports = FakePorts()
    ports.pipelines.executions[PIPELINE] = FakePipelineExecution(
        steps=[{"StepName": "Train", "Metadata": {"TrainingJob": {"Arn": JOB}}}],
    )
    text = (ROOT / "pipelines" / "training.pipeline.json").read_text().replace("${ArtifactBucket}", "b")
    definition = json.loads(text.replace("${SageMakerRoleArn}", STACK_ROLE))
    ports.pipelines.pipelines[ports.training_pipeline] = PipelineDescription(definition, STACK_ROLE)
    builtin = next(p["DefaultValue"] for p in definition["Parameters"] if p["Name"] == "CodeUri")
    ports.s3.put(*builtin.removeprefix("s3://").split("/", 1), b"the built-in models' bundle")
    table_bucket, _, table_key = valid_config()["data"]["uri"].removeprefix("s3://").partition("/")
    ports.s3.put(table_bucket, table_key, b"length_cm,package_type\n1,BOX\n")
    table = ports.s3.pin(f"s3://{table_bucket}/{table_key}", ports.artifact_bucket, "tables")
    code = ports.s3.pin(builtin, ports.artifact_bucket, "code")
    ports.pipelines.executions[PIPELINE].parameters.update({  # what LoadTrainingConfig started the pipeline with
        "InputDataUri": table.uri, "InputDataVersion": table.identity, "CodeUri": code.uri, "CodeVersion": code.identity,
        "TrainingImage": CODE["training_image"],
    })
    return ports


def register(ports, run_id, approved=True, score=0.91, judged_against=None, rules=None):
    decision = {
        "promote": approved, "summary": "promoted: ✓ ...", "reasons": ["✓ macro_f1 above the floor"],
        "primary_metric": "macro_f1", "candidate_score": score, "baseline_score": None, "baseline_version": judged_against,
        "deltas": {}, "metrics": {**METRICS, "multiclass_classification_metrics": {"macro_f1": {"value": score}}},
    }
    # what the Train step's job wrote: the artifact registration fingerprints
    artifact = model_data_url(ports.pipelines.steps(PIPELINE), ports.artifact_bucket, MODEL, run_id).removeprefix("s3://")
    ports.s3.put(*artifact.split("/", 1), f"model of {run_id}".encode())
    request = RegisterStep(
        step="register", run_id=run_id, model_name=MODEL, config=ConfigRef(bucket="b", key="configs/train/pt.json"),
        pipeline_execution_arn=PIPELINE, approved=approved, decision=decision, code=CODE, task="multiclass_classification",
        approval=rules,
    )
    return register_model(request, ports)


def test_the_exact_config_version_is_resolved_into_a_pipeline_with_its_hyperparameters(ports):
    first = ports.s3.put("b", "configs/train/pt.json", json.dumps(valid_config(model_name="first")).encode())
    ports.s3.put("b", "configs/train/pt.json", json.dumps(valid_config(model_name="second")).encode())
    config = ConfigRef(bucket="b", key="configs/train/pt.json", version_id=first)

    request = LoadConfigStep(step="load_config", run_id="train-pt-1", model_name="first", config=config)
    settings = load_training_settings(request, ports)

    assert settings["model_name"] == "first"
    parameters = {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}
    assert (parameters["ModelName"], parameters["RunId"]) == ("first", "train-pt-1")
    # the built-in bundle and the table, as the run's pinned copies
    assert parameters["CodeUri"].startswith(f"s3://{ports.artifact_bucket}/inputs/code/")
    assert parameters["InputDataUri"].startswith(f"s3://{ports.artifact_bucket}/inputs/tables/")
    assert settings["inputs"]["code"]["source"].startswith("s3://b/code/")
    created = ports.pipelines.pipelines[settings["pipeline_name"]].definition
    assert settings["pipeline_name"] == copy_name(ports.training_pipeline, created) != ports.training_pipeline
    role = ports.model_roles.roles["first"]  # the model's own role runs its jobs
    assert ports.pipelines.pipelines[settings["pipeline_name"]].role_arn == role
    assert role in json.dumps(created) and STACK_ROLE not in json.dumps(created)
    train = next(s for s in created["Steps"] if s["Name"] == "Train")["Arguments"]["HyperParameters"]
    assert train["algorithm"] == '"gradient_boosting"' and train["n_estimators"] == "20"
    spec_bucket, _, spec_object = parameters["RunSpecUri"].removeprefix("s3://").partition("/")
    assert spec_bucket == ports.artifact_bucket
    assert spec_object.startswith("runs/first/train-pt-1/spec-") and spec_object.endswith("/spec.json")
    assert ports.s3.read_json(spec_bucket, spec_object, 10_000)["label_column"] == "package_type"


def test_a_changed_config_gets_a_spec_of_its_own_so_a_resumed_run_starts_a_new_pipeline_execution():
    first = spec_key(MODEL, "train-pt-1", {"label_column": "package_type", "feature_columns": ["colour"]})
    fixed = spec_key(MODEL, "train-pt-1", {"label_column": "package_type", "feature_columns": ["material"]})

    assert first != fixed and first == spec_key(MODEL, "train-pt-1", {"feature_columns": ["colour"], "label_column": "package_type"})
    assert first.startswith(f"runs/{MODEL}/train-pt-1/spec-")


def test_the_first_model_is_judged_on_the_floor_alone(ports):
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/train-pt-1/evaluation/metrics.json", METRICS)

    decision = evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-1", model_name=MODEL, approval=RULES), ports)

    assert decision["promote"] is True and decision["baseline_version"] is None
    assert decision["metrics"] == METRICS


def test_a_candidate_is_judged_against_the_approved_version(ports):
    register(ports, "train-pt-1", score=0.91)
    worse = {**METRICS, "multiclass_classification_metrics": {"macro_f1": {"value": 0.7}}}
    ports.s3.put_json(ports.artifact_bucket, f"runs/{MODEL}/train-pt-2/evaluation/metrics.json", worse)

    decision = evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-2", model_name=MODEL, approval=RULES), ports)

    assert decision["promote"] is False and decision["baseline_version"] == 1
    assert any("vs approved 0.9100" in reason for reason in decision["reasons"])


def test_missing_metrics_name_the_run_and_where_they_should_be(ports):
    with pytest.raises(NotFoundError, match=f"wrote no metrics for run train-pt-9 .*runs/{MODEL}/train-pt-9/evaluation/metrics.json"):
        evaluate_candidate(EvaluateStep(step="evaluate", run_id="train-pt-9", model_name=MODEL, approval=RULES), ports)


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


def test_the_registered_container_is_the_trained_model_with_the_runs_image_and_code(ports):
    result = register(ports, "train-pt-1")

    container = ports.registry.container(result["model_package_arn"])
    assert container["Image"] == IMAGE
    assert container["ModelDataUrl"] == (
        f"s3://{ports.artifact_bucket}/runs/{MODEL}/train-pt-1/model/pipelines-abc-train-1/output/model.tar.gz")
    artifact = ports.models.version(MODEL, 1).artifact  # the exact bytes, which inference checks before using them
    assert artifact == {"uri": container["ModelDataUrl"], "version_id": "v1",
                        "sha256": hashlib.sha256(b"model of train-pt-1").hexdigest()}
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == CODE["code_uri"]
    record = ports.models.version(MODEL, 1)
    assert record.code == CODE and record.task == "multiclass_classification"  # exactly which code trained it
    assert ports.registry.packages[result["model_package_arn"]]["metadata"]["code_uri"] == CODE["code_uri"]
    # the registry shows the run's evaluation and baseline, beside its model
    assert ports.registry.packages[result["model_package_arn"]]["documents"] == (
        f"s3://{ports.artifact_bucket}/runs/{MODEL}/train-pt-1/evaluation/")


def test_a_run_records_what_its_table_and_code_held_and_a_changed_table_changes_the_pipeline_arguments(ports):
    config = valid_config()
    table_bucket, _, table_key = config["data"]["uri"].removeprefix("s3://").partition("/")
    ports.s3.put(table_bucket, table_key, b"length_cm,package_type\n1,BOX\n")
    version = ports.s3.put("b", "configs/train/pt.json", json.dumps(config).encode())
    request = LoadConfigStep(step="load_config", run_id="train-pt-1", model_name=MODEL,
                             config=ConfigRef(bucket="b", key="configs/train/pt.json", version_id=version))

    def arguments():
        settings = load_training_settings(request, ports)
        return {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}, settings["pipeline_client_token"]

    before, token_before = arguments()
    ports.s3.put(table_bucket, table_key, b"length_cm,package_type\n1,BOX\n2,BAG\n")  # same key, other rows
    after, token_after = arguments()

    assert before["InputDataVersion"].startswith("etag:") and before["InputDataVersion"] != after["InputDataVersion"]
    assert before["CodeVersion"] == after["CodeVersion"]
    assert token_before != token_after  # a new pipeline execution, not the one that read the old rows


def test_a_candidate_judged_against_a_version_no_longer_approved_is_judged_again_against_the_one_that_is(ports):
    register(ports, "train-pt-1", score=0.80, rules=RULES)  # v1, approved
    register(ports, "train-pt-2", score=0.95, judged_against=1, rules=RULES)  # v2, approved, better than v1

    # judged against v1 while v2 was being promoted: 0.90 beats v1 but not v2
    late = register(ports, "train-pt-3", score=0.90, judged_against=1, rules=RULES)

    assert late["status"] == "Rejected" and ports.models.pointers[MODEL] == 2
    assert ports.models.records[(MODEL, 3)].status == "Rejected"
    reasons = late["notification"]["reasons"]
    assert reasons[0] == "judged again against v2: the approved version moved from v1 while this run was judged"
    assert late["notification"]["kind"] == "model_rejected" and late["notification"]["baseline_version"] == 2


def test_a_candidate_that_beats_the_version_that_moved_in_meanwhile_takes_the_pointer(ports):
    register(ports, "train-pt-1", score=0.80, rules=RULES)

    first_judged_against_nothing = register(ports, "train-pt-2", score=0.90, judged_against=None, rules=RULES)

    assert first_judged_against_nothing["status"] == "Approved" and ports.models.pointers[MODEL] == 2
    assert first_judged_against_nothing["notification"]["reasons"][0].startswith("judged again against v1")


def test_the_pointer_moves_only_where_the_judgement_read_it(ports):
    register(ports, "train-pt-1", score=0.80, rules=RULES)
    v1 = ports.models.records[(MODEL, 1)]

    assert not ports.models.point_to_if(replace(v1, version=5), judged_against=None)  # v1 is there: judged against nothing
    assert ports.models.point_to_if(replace(v1, version=5), judged_against=1) and ports.models.pointers[MODEL] == 5


def test_a_retried_registration_that_finds_its_version_registered_and_the_pointer_elsewhere_judges_again(ports):
    register(ports, "train-pt-1", score=0.80, rules=RULES)
    # run 3's first attempt registered v2 Approved (judged against v1), then stopped before it moved the pointer
    ports.models.point_to_if = lambda record, judged_against: False
    with pytest.raises(PromotionRaceError):
        register(ports, "train-pt-3", score=0.90, judged_against=1, rules=RULES)
    del ports.models.point_to_if
    register(ports, "train-pt-2", score=0.95, judged_against=1, rules=RULES)  # meanwhile v3, better, took the pointer

    retried = register(ports, "train-pt-3", score=0.90, judged_against=1, rules=RULES)

    assert retried["status"] == "Rejected" and ports.models.pointers[MODEL] == 3
    assert ports.models.records[(MODEL, 2)].status == "Rejected"
    assert retried["notification"]["reasons"][0].startswith("judged again against v3")


def test_a_version_records_once_the_exact_table_code_images_and_config_it_came_from(ports):
    ports.s3.put(ports.artifact_bucket, f"runs/{MODEL}/train-pt-1/split/schema/schema.json",
                 json.dumps({"rows": {"train": 80, "validation": 20}}).encode())
    register(ports, "train-pt-1", rules=RULES)

    lineage = ports.models.version(MODEL, 1).lineage
    table_uri = valid_config()["data"]["uri"]
    assert lineage["table"]["uri"] == table_uri and lineage["table"]["pinned_uri"].startswith(
        f"s3://{ports.artifact_bucket}/inputs/tables/")
    assert [(f["version_id"], f["size"]) for f in lineage["table"]["files"]] == [("v1", 29)]
    assert lineage["table"]["header_sha256"] == hashlib.sha256(b"length_cm,package_type").hexdigest()
    assert lineage["table"]["rows"] == {"train": 80, "validation": 20}
    assert lineage["code"]["sha256"] == hashlib.sha256(b"the built-in models' bundle").hexdigest()
    assert lineage["images"]["training"] == {"uri": IMAGE, "digest": None}
    assert (lineage["config"]["uri"], lineage["decision"], lineage["judged_against"]) == (
        "s3://b/configs/train/pt.json", "Approved", None)
    assert ports.registry.lineage[(MODEL, 1)] == lineage  # and as SageMaker lineage entities
    index = ports.s3.read_json(ports.artifact_bucket, index_key(table_uri, "train-pt-1"), 10_000)
    assert (index["kind"], index["model_name"], index["version"], index["files"]) == (
        "training", MODEL, 1, lineage["table"]["files"])


def test_a_reproduction_reads_the_recorded_copies_after_the_table_changed_and_waits_for_a_person(ports):
    config = valid_config()
    version = ports.s3.put("b", "configs/train/pt.json", json.dumps(config).encode())
    ref = ConfigRef(bucket="b", key="configs/train/pt.json", version_id=version)
    first = load_training_settings(LoadConfigStep(step="load_config", run_id="train-pt-1", model_name=MODEL, config=ref), ports)
    table_bucket, _, table_key = config["data"]["uri"].removeprefix("s3://").partition("/")
    ports.s3.put(table_bucket, table_key, b"length_cm,package_type\n1,BOX\n2,BAG\n")  # uploaded again, same URI

    def parameters(settings):
        return {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}

    later = load_training_settings(LoadConfigStep(step="load_config", run_id="train-pt-2", model_name=MODEL, config=ref), ports)
    reproduces = Reproduction(model_name=MODEL, version=1, table_uri=first["inputs"]["table"]["pinned"],
                              code_uri=first["inputs"]["code"]["pinned"])
    again = load_training_settings(LoadConfigStep(
        step="load_config", run_id="train-pt-3", model_name=MODEL, config=ref.model_copy(update={"reproduces": reproduces})), ports)

    assert parameters(later)["InputDataUri"] != parameters(first)["InputDataUri"]
    assert parameters(again)["InputDataUri"] == parameters(first)["InputDataUri"]
    assert parameters(again)["InputDataVersion"] == parameters(first)["InputDataVersion"]
    pinned_bucket, _, pinned_prefix = parameters(again)["InputDataUri"].removeprefix("s3://").partition("/")
    assert ports.s3.read(pinned_bucket, f"{pinned_prefix}{table_key.rsplit('/', 1)[-1]}", None, 100).data == (
        b"length_cm,package_type\n1,BOX\n")
    assert again["approval"]["mode"] == "manual" and first["approval"]["mode"] == "auto"


def load(ports, run_id="train-pt-9"):
    version = ports.s3.put("b", "configs/train/pt.json", json.dumps(valid_config()).encode())
    ref = ConfigRef(bucket="b", key="configs/train/pt.json", version_id=version)
    settings = load_training_settings(LoadConfigStep(step="load_config", run_id=run_id, model_name=MODEL, config=ref), ports)
    return settings, {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}


def test_a_table_over_the_pinning_limits_or_a_bundle_this_role_may_not_read_is_read_where_it_is(ports, monkeypatch):
    table_bucket, _, table_key = valid_config()["data"]["uri"].removeprefix("s3://").partition("/")
    ports.s3.put(table_bucket, table_key, b"length_cm,package_type\n3,BAG\n")  # not pinned yet
    monkeypatch.setattr(pinning, "MAX_PIN_BYTES", 10)  # its 29 bytes are over it
    pin = ports.s3.pin

    def denied_for_code(uri, bucket, kind):
        if kind == "code":
            raise AwsError(f"cannot copy {uri}: AccessDenied", "AccessDenied")
        return pin(uri, bucket, kind)

    monkeypatch.setattr(ports.s3, "pin", denied_for_code)
    settings, parameters = load(ports)

    assert parameters["InputDataUri"] == valid_config()["data"]["uri"] and parameters["InputDataVersion"].startswith("etag:")
    assert parameters["CodeUri"].startswith("s3://b/code/") and settings["inputs"] == {}


def test_a_file_that_changed_while_it_was_copied_fails_the_step_for_a_resume(ports, monkeypatch):
    def changed(uri, bucket, kind):
        raise AwsError(f"cannot copy {uri}: PreconditionFailed", "PreconditionFailed")

    monkeypatch.setattr(ports.s3, "pin", changed)
    with pytest.raises(AwsError, match="PreconditionFailed"):
        load(ports)
