"""The templates `mlrelay init` copies: each makes a folder whose config passes the trigger's checks against its own table."""

import pytest

from chalicelib.intake.preflight import preflight_problems
from mlrelay.submission import check
from mlrelay.templates import TEMPLATES, create_model_folder
from mlrelay.templates.samples import text_titles
from tests.unit.fakes import FakeS3

URI = "s3://mlrelay-dev-123456789012-us-east-1/data/{name}/train.csv"


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_new_folder_holds_a_valid_config_whose_sample_table_has_every_column_it_names(tmp_path, template):
    folder = create_model_folder("my-model", template, tmp_path, URI.format(name="my-model"))

    config, bundle = check(folder / "config.yaml")

    assert config.model_name == "my-model" and config.data.uri == URI.format(name="my-model")
    assert sorted(bundle.files) == ["requirements.txt", "train.py"]
    assert config.inference.daily and config.inference.monthly  # the defaults a user gets, so the table must allow them
    s3 = FakeS3()
    s3.put("mlrelay-dev-123456789012-us-east-1", "data/my-model/train.csv", (folder / "data" / "sample.csv").read_bytes())
    assert preflight_problems(config, s3, timeout_seconds=5) == []
    assert "$" not in (folder / "config.yaml").read_text() + (folder / "README.md").read_text()


def test_the_text_sample_holds_titles_in_seven_languages_and_is_the_generators_output(tmp_path):
    folder = create_model_folder("titles", "text-classification", tmp_path, URI.format(name="titles"))
    titles = text_titles()

    assert (folder / "data" / "sample.csv").read_text() == titles.to_csv(index=False)
    assert sorted(titles["language"].unique()) == ["de", "en", "es", "fr", "it", "nl", "pl"]
    assert titles["category"].nunique() == 6
