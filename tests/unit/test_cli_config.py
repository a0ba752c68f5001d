import json

from typer.testing import CliRunner

from mlrelay.cli.main import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_validate_accepts_the_examples():
    result = runner.invoke(app, ["config", "validate", str(EXAMPLES / "packaging-type.json"), str(EXAMPLES / "packaging-type.yaml")])

    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 2


def test_validate_prints_every_problem_with_its_path_and_exits_1():
    result = runner.invoke(app, ["config", "validate", str(EXAMPLES / "broken-packaging-type.json")])

    assert result.exit_code == 1
    for path in ("model_name", "model.hyperparameters.max_depth", "data.validation_split", "traning"):
        assert path in result.output


def test_validate_a_missing_file_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["config", "validate", str(tmp_path / "nope.json")])

    assert result.exit_code == 2
    assert "no such file" in result.output


def test_schema_is_json_schema(tmp_path):
    target = tmp_path / "schema.json"

    result = runner.invoke(app, ["config", "schema", "--output", str(target)])

    assert result.exit_code == 0
    assert json.loads(target.read_text())["title"] == "mlrelay model config"


def test_commands_that_need_a_stack_say_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "none.json"))

    result = runner.invoke(app, ["runs", "list"])

    assert result.exit_code == 1
    assert "mlrelay local up" in result.output
