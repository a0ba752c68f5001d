import json
import re

from chalicelib.config.parsing import parse_config
from chalicelib.shared.pipeline_runs import PIPELINE_OVERHEAD_SECONDS, pipeline_client_token, pipeline_display_name
from chalicelib.training.plan import training_settings
from tests.conftest import EXAMPLES

CONFIG = parse_config((EXAMPLES / "packaging-type.json").read_bytes(), "packaging-type.json")


def test_pipeline_parameters_are_strings_named_as_the_pipeline_declares():
    settings = training_settings(CONFIG, "train-pt-1", None)

    parameters = {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}
    declared = json.loads((EXAMPLES.parents[1] / "pipelines" / "training.pipeline.json").read_text())["Parameters"]
    assert set(parameters) == {p["Name"] for p in declared}
    assert all(isinstance(v, str) for v in parameters.values())
    assert parameters["FeatureColumns"] == "length_cm,width_cm,height_cm,weight_g,fragile,material,category,price"
    assert json.loads(parameters["Hyperparameters"])["n_estimators"] == 150


def test_the_callback_timeout_follows_the_config_unless_the_run_overrides_it():
    assert training_settings(CONFIG, "r", None)["callback_timeout_seconds"] == 3600 + PIPELINE_OVERHEAD_SECONDS
    assert training_settings(CONFIG, "r", 5)["callback_timeout_seconds"] == 5


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
