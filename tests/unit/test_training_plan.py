import json
import re

import pytest

from chalicelib.config.parsing import parse_config
from chalicelib.shared.model_pipelines import copy_name, with_role
from chalicelib.shared.pipeline_runs import PIPELINE_OVERHEAD_SECONDS, pipeline_client_token, pipeline_display_name
from chalicelib.training.plan import (
    RunInputs,
    SourceNotUploadedError,
    resolve_code,
    run_spec,
    training_settings,
    with_hyperparameters,
    with_validation_channel,
)
from tests.conftest import EXAMPLES, ROOT, valid_config

CONFIG = parse_config((EXAMPLES / "packaging-type.json").read_bytes(), "packaging-type.json")
BUILTIN = "s3://artifacts/code/0123456789abcdef0123/sourcedir.tar.gz"
DEFINITION = json.loads((ROOT / "pipelines" / "training.pipeline.json").read_text())
BASE_ROLE = "${SageMakerRoleArn}"  # the built definition's placeholder, which the stack's deploy fills
XGBOOST = {"framework": "xgboost", "code_uri": "s3://artifacts/code/aaaa/sourcedir.tar.gz", "hyperparameters": {"eta": 0.2, "max_depth": 4}}


def config(**overrides):
    return parse_config(json.dumps(valid_config(**overrides)).encode(), "x.json")


def settings_of(parsed, run_id="train-pt-1", timeout=None):
    code = resolve_code(parsed, "eu-west-1", BUILTIN)
    return training_settings(parsed, parsed.model_name, run_id, timeout, code, "mlrelay-dev-training-x", "processing-image", "eu-west-1",
                             "s3://a/spec.json", RunInputs(table="etag:table", code="etag:code"), parsed.data.uri)


def test_pipeline_parameters_are_strings_named_as_the_pipeline_declares():
    parameters = {p["Name"]: p["Value"] for p in settings_of(CONFIG)["pipeline_parameters"]}

    assert set(parameters) == {p["Name"] for p in DEFINITION["Parameters"]}
    assert all(isinstance(v, str) for v in parameters.values())
    assert parameters["CodeUri"] == BUILTIN and parameters["EntryPoint"] == "train.py"
    assert parameters["ModelName"] == CONFIG.model_name  # its outputs go under runs/<model>/<run>/
    assert "length_cm" not in json.dumps(parameters)  # column names travel in the spec file, never in parameters


def test_a_built_in_model_is_the_built_in_bundle_with_its_algorithm_and_parameters():
    code = resolve_code(CONFIG, "eu-west-1", BUILTIN)

    assert code.builtin and code.code_uri == BUILTIN
    assert code.hyperparameters == {"algorithm": "gradient_boosting", "n_estimators": 150, "max_depth": 3, "learning_rate": 0.1,
                                    "subsample": 1.0, "min_samples_leaf": 1, "random_state": 0}
    assert code.training_image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def test_the_teams_code_gets_its_frameworks_images_in_the_region_and_its_own_hyperparameters():
    code = resolve_code(config(task="regression", model=XGBOOST, approval={"metric": "rmse"}), "eu-west-1", BUILTIN)

    assert (code.framework, code.framework_version, code.builtin) == ("xgboost", "3.0-5", False)
    assert code.training_image == code.serving_image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    assert code.hyperparameters == {"eta": 0.2, "max_depth": 4}


def test_a_config_naming_a_local_folder_cannot_train_until_uploaded():
    local = {**XGBOOST, "code_uri": None, "source_dir": "./model"}
    local.pop("code_uri")

    with pytest.raises(SourceNotUploadedError, match="mlrelay local drop"):
        resolve_code(config(model=local), "us-east-1", BUILTIN)


def test_hyperparameters_are_written_into_a_copy_of_the_train_step_as_the_sdk_encodes_them():
    copy = with_hyperparameters(DEFINITION, {"eta": 0.2, "objective": "reg:squarederror", "verbose": True})

    train = next(s for s in copy["Steps"] if s["Name"] == "Train")["Arguments"]["HyperParameters"]
    assert (train["eta"], train["objective"], train["verbose"]) == ("0.2", '"reg:squarederror"', "true")
    base = next(s for s in DEFINITION["Steps"] if s["Name"] == "Train")["Arguments"]["HyperParameters"]
    assert "eta" not in base  # the base definition is left as it was


def test_the_same_definition_and_role_name_the_same_pipeline_copy():
    base, role = "mlrelay-dev-training", "arn:aws:iam::123456789012:role/mlrelay-dev-models/mlrelay-dev-pt"

    def name(hyperparameters, definition=DEFINITION, role=role):
        return copy_name(base, with_role(with_hyperparameters(definition, hyperparameters), BASE_ROLE, role))

    assert name({"a": 1, "b": 2}) == name({"b": 2, "a": 1}) != name({"a": 2})
    assert name({}).startswith(base + "-") and name({}) != name({}, role=role + "2")  # each model's role has its copy
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", name({"a": 1}))
    # an upgrade that changes the base definition gets a copy of its own, not the old definition's
    upgraded = {**DEFINITION, "Parameters": [*DEFINITION["Parameters"], {"Name": "Added", "Type": "String"}]}
    assert name({"a": 1}, upgraded) != name({"a": 1})


def test_a_models_copy_runs_every_job_as_its_role():
    role = "arn:aws:iam::123456789012:role/mlrelay-dev-models/mlrelay-dev-pt"

    copy = json.dumps(with_role(DEFINITION, BASE_ROLE, role))

    assert BASE_ROLE not in copy and copy.count(role) == json.dumps(DEFINITION).count(BASE_ROLE) > 0


def test_the_spec_holds_the_columns_and_the_task():
    spec = run_spec(config(data={**valid_config()["data"], "feature_columns": ["mean radius", "od280/od315_of_diluted_wines"]}))

    assert spec["feature_columns"] == ["mean radius", "od280/od315_of_diluted_wines"]
    assert (spec["task"], spec["label_column"]) == ("multiclass_classification", "package_type")


def test_the_callback_timeout_follows_the_config_unless_the_run_overrides_it():
    assert settings_of(CONFIG)["callback_timeout_seconds"] == 3600 + PIPELINE_OVERHEAD_SECONDS
    assert settings_of(CONFIG, timeout=5)["callback_timeout_seconds"] == 5


def test_display_names_fit_sagemakers_pattern():
    for run_id in ("train-pt-1", "train-my_model--x-" + "a" * 100, "train__x"):
        assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}", pipeline_display_name(run_id)), run_id


def test_client_tokens_are_stable_per_run_and_parameters_and_within_sagemakers_limits():
    parameters = [{"Name": "InputDataUri", "Value": "s3://b/t.csv"}]
    fixed = [{"Name": "InputDataUri", "Value": "s3://b/fixed.csv"}]
    token = pipeline_client_token("training", "train-pt-1", parameters)

    assert token == pipeline_client_token("training", "train-pt-1", parameters)
    assert token != pipeline_client_token("training", "train-pt-2", parameters)
    assert token != pipeline_client_token("training", "train-pt-1", fixed)  # a run resumed with a fixed config starts anew
    assert token != pipeline_client_token("inference", "train-pt-1", parameters)  # each pipeline has its own tokens
    assert 32 <= len(token) <= 128 and re.fullmatch(r"[a-zA-Z0-9-]+", token)


def test_a_models_copy_names_the_held_out_rows_channel_as_its_config_does():
    def channels(definition):
        train = next(s for s in definition["Steps"] if s["Name"] == "Train")
        return [source["ChannelName"] for source in train["Arguments"]["InputDataConfig"]]

    assert channels(DEFINITION) == ["train", "validation", "schema"]
    assert channels(with_validation_channel(DEFINITION, "test")) == ["train", "test", "schema"]
    assert channels(DEFINITION) == ["train", "validation", "schema"]  # the base definition is left as it was


def test_the_spec_says_the_channels_layout():
    assert run_spec(CONFIG)["layout"] == "header"
    code = {"framework": "sklearn", "code_uri": "s3://code-bucket/c/sourcedir.tar.gz"}
    headerless = config(model=code, data={**valid_config()["data"], "layout": "label_first"})
    assert run_spec(headerless)["layout"] == "label_first"

