import json

import pytest

from chalicelib.config.parsing import MAX_CONFIG_BYTES, ConfigError, parse_config
from chalicelib.config.schema import ModelConfig
from tests.bad_configs import BAD_CONFIGS
from tests.conftest import EXAMPLES, valid_config


@pytest.mark.parametrize("name", ["packaging-type.json", "packaging-type.yaml"])
def test_examples_are_valid(name):
    config = parse_config((EXAMPLES / name).read_bytes(), name)

    assert config.model_name == "packaging-type"
    assert config.data.label_column == "package_type"


def test_defaults_fill_what_is_left_out():
    minimal = {
        "schema_version": 1,
        "model_name": "tiny",
        "model": {"type": "sklearn.logistic_regression"},
        "data": {"uri": "s3://bucket-a/t.csv", "label_column": "y", "feature_columns": ["x"]},
    }

    config = parse_config(json.dumps(minimal).encode(), "tiny.json")

    assert config.data.validation_split == 0.2
    assert (config.metric, config.lower_is_better, config.threshold) == ("macro_f1", False, 0.5)
    assert config.model.hyperparameters.max_iter == 1000
    assert config.training.instance_type == "ml.m5.large"


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_each_kind_of_bad_config_names_its_field(name):
    suffix, content, path, words = BAD_CONFIGS[name]

    with pytest.raises(ConfigError) as caught:
        parse_config(content, f"{name}{suffix}")

    assert any(p.path == path and words in p.message for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once():
    broken = (EXAMPLES / "broken-packaging-type.json").read_bytes()

    with pytest.raises(ConfigError) as caught:
        parse_config(broken, "broken-packaging-type.json")

    assert [p.path for p in caught.value.problems] == [
        "model_name",
        "model.hyperparameters.max_depth",
        "data.validation_split",
        "traning",
    ]
    assert "did you mean 'training'" in caught.value.problems[-1].message


@pytest.mark.parametrize(
    ("content", "suffix"),
    [(b'{"model_name": "a", "model_name": "b"}', ".json"), (b"model_name: a\nmodel_name: b\n", ".yml")],
)
def test_duplicate_keys_are_refused_not_silently_overwritten(content, suffix):
    with pytest.raises(ConfigError, match="appears twice"):
        parse_config(content, "dup" + suffix)


def test_non_utf8_file_is_refused():
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_config(b"\xff\xfe\x00", "x.json")


def test_size_limit_is_exact():
    padding = MAX_CONFIG_BYTES - len(json.dumps(valid_config())) - len(', "x": ""')
    at_limit = json.dumps(valid_config()).encode()[:-1] + b', "x": "' + b" " * padding + b'"}'
    assert len(at_limit) == MAX_CONFIG_BYTES

    with pytest.raises(ConfigError) as caught:
        parse_config(at_limit, "x.json")

    # At the limit the file is read and judged on its fields, not its size.
    assert [p.path for p in caught.value.problems] == ["x"]


def test_json_schema_describes_the_model_types():
    schema = ModelConfig.model_json_schema()

    assert schema["title"] == "mlrelay model config"
    assert set(schema["required"]) == {"schema_version", "model_name", "model", "data"}
    assert "sklearn.random_forest" in json.dumps(schema)


def test_the_docs_list_every_framework_version_a_config_may_name():
    from chalicelib.shared.images import known_versions
    from tests.conftest import ROOT

    table = (ROOT / "docs" / "your-code.md").read_text().split("## Framework versions", 1)[1].split("\n## ", 1)[0]
    rows = {(line.split("|")[1].strip(), line.split("|")[2].strip().split("`")[1]) for line in table.splitlines()
            if line.startswith("| ") and line.split("|")[2].strip().startswith("`") and "framework_version" not in line}

    assert rows == {(framework, version) for framework in ("sklearn", "xgboost", "pytorch", "huggingface")
                    for version in known_versions(framework)}


def test_any_framework_version_is_taken_when_the_config_names_both_images_itself():
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-sklearn:7"
    model = {"framework": "sklearn", "framework_version": "0.23-1", "image_uri": image, "serving_image_uri": image,
             "code_uri": "s3://code-bucket/c/sourcedir.tar.gz"}

    assert parse_config(json.dumps(valid_config(model=model)).encode(), "x.json").model.framework_version == "0.23-1"
