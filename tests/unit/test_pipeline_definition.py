"""The committed pipeline definition is exactly what the SageMaker SDK builds now.

It needs the SDK (requirements-pipelines.txt, installed by `make test`). If this
fails after a change to the builder or the step scripts, run
`make pipelines` and commit pipelines/training.pipeline.json.
"""

import json

import pytest

from mlrelay.pipeline_builder.build import build_definitions
from mlrelay.pipeline_builder.code import code_bundle
from tests.conftest import ROOT

COMMITTED = ROOT / "pipelines" / "training.pipeline.json"


def test_the_committed_definitions_match_a_fresh_build(tmp_path):
    written = build_definitions(tmp_path)

    assert set(written) == {"training", "inference", "quality"}
    for name, path in written.items():
        assert path.read_text() == (ROOT / "pipelines" / path.name).read_text(), f"{name}: run `make pipelines`"


def test_the_definition_names_the_current_step_scripts():
    assert f"s3://${{ArtifactBucket}}/{code_bundle().prefix}/split.py" in COMMITTED.read_text()


def test_the_definition_has_the_expected_steps_with_caching_and_retries():
    definition = json.loads(COMMITTED.read_text())

    steps = {s["Name"]: s for s in definition["Steps"]}
    assert list(steps) == ["Split", "Train", "CreateModel-CreateModel", "TransformValidation", "Evaluate"]
    for name in ("Split", "Train", "TransformValidation", "Evaluate"):
        assert steps[name]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
        assert {e for p in steps[name]["RetryPolicies"] for e in p["ExceptionType"]} >= {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"}
    assert steps["Evaluate"]["PropertyFiles"][0]["FilePath"] == "metrics.json"


def test_the_inference_definition_prepares_transforms_assembles_and_monitors():
    definition = json.loads((ROOT / "pipelines" / "inference.pipeline.json").read_text())

    assert [s["Name"] for s in definition["Steps"]] == ["Prepare", "CreateModel-CreateModel", "Transform", "Assemble", "Monitor"]
    assert {p["Name"] for p in definition["Parameters"]} >= {
        "RunId", "RunSpecUri", "ModelDataUrl", "ModelImageUri", "ProcessingImage", "BaselineUri",
    }
    monitor = next(s for s in definition["Steps"] if s["Name"] == "Monitor")
    inputs = {i["S3Input"]["LocalPath"]: i["S3Input"]["S3Uri"] for i in monitor["Arguments"]["ProcessingInputs"]}
    assert inputs["/opt/ml/processing/input/baseline"] == {"Get": "Parameters.BaselineUri"}
    assert "/opt/ml/processing/input/library" in inputs  # the shared modules: data_profile, drift, attribution, report_html


def test_the_quality_definition_reads_the_labels_and_a_manifest_of_stored_predictions():
    definition = json.loads((ROOT / "pipelines" / "quality.pipeline.json").read_text())

    (step,) = definition["Steps"]
    assert step["Name"] == "EvaluateQuality"
    inputs = {i["S3Input"]["LocalPath"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}
    assert inputs["/opt/ml/processing/input/labels"]["S3Uri"] == {"Get": "Parameters.LabelsUri"}
    predictions = inputs["/opt/ml/processing/input/predictions"]
    assert (predictions["S3Uri"], predictions["S3DataType"]) == ({"Get": "Parameters.PredictionsManifestUri"}, "ManifestFile")


def test_the_train_step_runs_the_runs_code_in_script_mode():
    train = next(s for s in json.loads(COMMITTED.read_text())["Steps"] if s["Name"] == "Train")

    arguments = train["Arguments"]
    assert arguments["AlgorithmSpecification"]["TrainingImage"] == {"Get": "Parameters.TrainingImage"}
    assert arguments["HyperParameters"]["sagemaker_program"] == {"Get": "Parameters.EntryPoint"}
    assert arguments["HyperParameters"]["sagemaker_submit_directory"] == {"Get": "Parameters.CodeUri"}
    assert [c["ChannelName"] for c in arguments["InputDataConfig"]] == ["train", "validation", "schema"]
    assert arguments["ResourceConfig"]["InstanceCount"] == {"Get": "Parameters.TrainingInstanceCount"}


def test_the_built_in_models_are_the_default_code_and_that_code_is_shipped():
    defaults = {p["Name"]: p.get("DefaultValue") for p in json.loads(COMMITTED.read_text())["Parameters"]}

    assert defaults["CodeUri"] == f"s3://${{ArtifactBucket}}/{code_bundle().builtin.key}"


def test_the_committed_image_table_is_what_the_sdk_says_now(tmp_path):
    from mlrelay.pipeline_builder.images import IMAGES_FILE, build_image_table

    assert build_image_table(tmp_path / "images.json").read_text() == IMAGES_FILE.read_text(), "run `make pipelines`"


def test_every_step_writes_under_its_runs_model_and_run_id():
    run = ["s3://${ArtifactBucket}/runs", {"Get": "Parameters.ModelName"}, {"Get": "Parameters.RunId"}]
    for name in ("training", "inference", "quality"):
        definition = json.loads((ROOT / "pipelines" / f"{name}.pipeline.json").read_text())
        for step in definition["Steps"]:
            arguments = step["Arguments"]
            outputs = [o["S3Output"]["S3Uri"] for o in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])]
            outputs += [arguments[k]["S3OutputPath"] for k in ("OutputDataConfig", "TransformOutput") if k in arguments]
            for output in outputs:  # runs/<model>/<run>/...: a role for the model's jobs may write only there
                assert output["Std:Join"]["Values"][:3] == run, f"{name} {step['Name']}"


@pytest.mark.parametrize("name", ["training", "inference", "quality"])
def test_each_steps_inputs_have_names_of_their_own_and_no_output_name_starts_another(name):
    definition = json.loads((ROOT / "pipelines" / f"{name}.pipeline.json").read_text())
    for step in definition["Steps"]:
        names = [i["InputName"] for i in step.get("Arguments", {}).get("ProcessingInputs", [])]
        assert len(names) == len(set(names)), (step["Name"], names)
        # a channel or input reads its output by S3 prefix: .../validation would read .../validation_features too
        outputs = [o["OutputName"] for o in step.get("Arguments", {}).get("ProcessingOutputConfig", {}).get("Outputs", [])]
        assert not [(a, b) for a in outputs for b in outputs if a != b and b.startswith(a)], (step["Name"], outputs)

