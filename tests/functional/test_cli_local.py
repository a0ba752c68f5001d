"""`mlrelay local drop` and `mlrelay runs` against the session's stack, as a user runs them."""

import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.synthetic import synthesize
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import EXAMPLES, valid_config
from tests.functional.conftest import DATA_BUCKET, ONE_CLASS_CAUSE, ONE_CLASS_URI

pytestmark = pytest.mark.functional
CODE = Path(__file__).parent / "code"
runner = CliRunner()


@pytest.fixture
def state_file(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(stack.info)


def test_drop_waits_for_the_run_and_runs_show_tells_its_story(state_file, tmp_path):
    # a model folder's config.yaml: it lands, and its runs are named, after the model, not "config"
    config = tmp_path / "config.yaml"
    config.write_text((EXAMPLES / "packaging-type.yaml").read_text().replace("model_name: packaging-type", "model_name: cli-drop"))

    dropped = runner.invoke(app, ["local", "drop", str(config)])

    assert dropped.exit_code == 0, dropped.output
    assert "/configs/train/cli-drop.yaml (version" in " ".join(dropped.output.split())
    run_id = re.search(r"run (train-cli-drop-[0-9a-f]{16}): SUCCEEDED", dropped.output).group(1)
    listed = runner.invoke(app, ["runs", "list"], terminal_width=200)
    assert run_id in listed.output
    shown = runner.invoke(app, ["runs", "show", run_id], terminal_width=200)
    assert shown.exit_code == 0
    assert re.search(r"LoadTrainingConfig\s+Task\s+succeeded", shown.output)


def test_drop_of_a_broken_config_prints_the_problems_and_exits_1(state_file, tmp_path):
    config = tmp_path / "cli-broken.json"
    config.write_bytes((EXAMPLES / "broken-packaging-type.json").read_bytes())

    dropped = runner.invoke(app, ["local", "drop", str(config)], terminal_width=200)

    assert dropped.exit_code == 1
    assert "rejected: 4 problem(s)" in dropped.output
    assert "data.validation_split" in dropped.output


def test_runs_show_names_the_failed_steps_error(state_file, aws):
    # GIVEN a table with a single package type: the Split step refuses it, naming the class and its count
    document = valid_config(model_name="cli-failing")
    document["data"] = {**document["data"], "uri": ONE_CLASS_URI}
    aws.drop("configs/train/cli-failing.json", json.dumps(document).encode())
    (run,) = aws.runs("train-cli-failing-")

    shown = runner.invoke(app, ["runs", "show", run["name"]], terminal_width=300)

    assert shown.exit_code == 0
    assert "FAILED" in shown.output and "PipelineFailed" in shown.output
    assert ONE_CLASS_CAUSE in " ".join(shown.output.split())
    assert aws.stack.pipelines.step_runs_for(run["name"]) == ["Split"]


def test_warehouse_init_and_query_print_results(state_file, aws):
    initialised = runner.invoke(app, ["warehouse", "init"], terminal_width=200)
    queried = runner.invoke(app, ["warehouse", "query", "SELECT 41 + 1 AS answer, 'text' AS kind"], terminal_width=200)
    broken = runner.invoke(app, ["warehouse", "query", "SELECT * FROM no_such_table"], terminal_width=200)

    assert initialised.exit_code == 0 and "mlrelay.predictions is ready" in initialised.output
    assert queried.exit_code == 0 and "42" in queried.output and "1 rows" in queried.output
    assert broken.exit_code == 1 and "no_such_table" in broken.output


def test_a_run_with_a_bad_parameter_is_resumed_with_the_fixed_config_and_shows_both_attempts(state_file, aws, tmp_path):
    # GIVEN a run that failed in the pipeline because its config names a table with a single class
    document = valid_config(model_name="cli-fixable")
    broken = {**document, "data": {**document["data"], "uri": ONE_CLASS_URI}}
    aws.drop("configs/train/cli-fixable.json", json.dumps(broken).encode())
    (run,) = aws.runs("train-cli-fixable-")
    assert run["status"] == "FAILED"
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(document))
    invalid = tmp_path / "invalid.json"
    invalid.write_bytes((EXAMPLES / "broken-packaging-type.json").read_bytes())

    refused = runner.invoke(app, ["runs", "resume", run["name"], "--with-config", str(invalid)], terminal_width=300)
    resumed = runner.invoke(app, ["runs", "resume", run["name"], "--with-config", str(fixed)], terminal_width=300)
    again = runner.invoke(app, ["runs", "resume", run["name"]], terminal_width=300)
    shown = runner.invoke(app, ["runs", "show", run["name"]], terminal_width=300)

    refusal = " ".join(refused.output.split())  # errors go to a console of its own width
    assert refused.exit_code == 1 and "is not a valid config" in refusal and "data.validation_split" in refusal
    assert resumed.exit_code == 0, resumed.output
    assert f"resumed {run['name']} at LoadTrainingConfig (attempt 2)" in resumed.output
    assert "skipped, done in an earlier attempt: RecordRunStarted" in resumed.output
    assert f"run {run['name']} succeeded" in resumed.output
    assert again.exit_code == 0 and "already succeeded" in again.output
    assert "attempt 1: FAILED" in shown.output and "attempt 2): SUCCEEDED" in shown.output
    record = aws.run_record(run["name"])
    (resume,) = record["resumes"]
    assert resume["M"]["config_changed"] == {"BOOL": True}
    assert f'"key": "runs/cli-fixable/{run["name"]}/resume-configs/' in resume["M"]["config"]["S"]  # beside the run's outputs
    # the fixed parameters start a new pipeline execution; Split runs again because its input changed
    assert aws.stack.pipelines.step_runs_for(run["name"]).count("Split") == 2
    # the approved version's config is the resume's, under runs/: the daily check reads it there (AccessDenied before)
    two_days_later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert "cli-fixable" in aws.invoke("check_daily_freshness", {"checked_at": two_days_later})["stale"]


def test_a_run_whose_code_failed_is_resumed_with_the_fixed_folder_packed_and_uploaded_as_submit_does(state_file, aws, tmp_path):
    folder = tmp_path / "fixable"
    shutil.copytree(CODE / "crashing", folder)
    aws.drop_code_config(folder, "cli-fixable-code")  # its config names the folder: source_dir
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs("train-cli-fixable-code-", timeout=240)
    assert run["status"] == "FAILED"
    shutil.copy(CODE / "slow" / "train.py", folder / "train.py")  # the fix, in the same folder

    resumed = runner.invoke(app, ["runs", "resume", run["name"], "--with-config", str(tmp_path / "cli-fixable-code.json")],
                            terminal_width=300)

    assert resumed.exit_code == 0, resumed.output
    unwrapped = "".join(resumed.output.splitlines())  # the console wraps at 80 columns, inside the URI too
    assert re.search(r"code: 1 files → s3://\S+/code/\w+/sourcedir\.tar\.gz \(uploaded\)", unwrapped), resumed.output
    skipped = next(line for line in resumed.output.splitlines() if line.startswith("skipped"))
    assert skipped == "skipped, done in an earlier attempt: RecordRunStarted"  # no failure-path states: they did no work
    assert f"run {run['name']} succeeded" in resumed.output


def test_a_plain_resume_after_the_table_was_fixed_at_the_same_key_reads_it_again(state_file, aws, tmp_path):
    # GIVEN a run whose code fails at Train on blank weights (Split lets blank cells through, and counts them)
    key = "tables/blank-weights.csv"
    table = synthesize(600, seed=7)
    blanked = table.copy()
    blanked.loc[::20, "weight_g"] = None
    aws.s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=blanked.to_csv(index=False).encode())
    folder = tmp_path / "fixable-table"
    shutil.copytree(CODE / "slow", folder)
    data = {**valid_config()["data"], "uri": f"s3://{DATA_BUCKET}/{key}"}
    aws.drop_code_config(folder, "cli-fixable-table", data=data)
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs("train-cli-fixable-table-", timeout=240)
    assert run["status"] == "FAILED" and aws.run_record(run["name"])["failed_state"] == "WaitForTrainingPipeline"
    assert "Input X contains NaN" in " ".join(runner.invoke(app, ["runs", "show", run["name"]], terminal_width=300).output.split())
    # WHEN the table is fixed where it is, and the run resumed without a new config
    aws.s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=table.to_csv(index=False).encode())

    resumed = runner.invoke(app, ["runs", "resume", run["name"]], terminal_width=300)

    # THEN the pipeline reads the table again (not the failed execution's Split of the blank rows), and the run succeeds
    assert resumed.exit_code == 0, resumed.output
    said = " ".join(resumed.output.split())  # the console wraps at 80 columns
    assert f"the table s3://{DATA_BUCKET}/{key} changed since the run read it: its steps run again" in said
    assert f"resumed {run['name']} at LoadTrainingConfig (attempt 2)" in said
    assert "retrying pipeline execution" not in said
    assert f"run {run['name']} succeeded" in said
    steps = aws.stack.pipelines.step_runs_for(run["name"])
    assert steps.count("Split") == 2 and steps.count("Train") == 2


def test_warehouse_migrate_brings_a_first_layout_table_over_with_its_rows(state_file, stack):
    data = stack.client("redshift-data")
    run_statement(data, connection_from(stack.info.outputs), sqls=[
        "CREATE SCHEMA IF NOT EXISTS legacy",
        "CREATE TABLE legacy.old_predictions (item_id VARCHAR(128) NOT NULL, model_name VARCHAR(64) NOT NULL, model_version "
        "INTEGER NOT NULL, predicted_label VARCHAR(64) NOT NULL, probabilities VARCHAR(4096), run_id VARCHAR(128) NOT NULL, "
        "mode VARCHAR(16) NOT NULL, predicted_at TIMESTAMP NOT NULL)",
        "INSERT INTO legacy.old_predictions VALUES ('I1', 'pt', 1, 'BOX', '{}', 'r1', 'monthly', TIMESTAMP '2026-11-01 06:00:00')",
    ])
    write_state(replace(stack.info, outputs={**stack.info.outputs, "PredictionsTableName": "legacy.old_predictions"}))

    migrated = runner.invoke(app, ["warehouse", "migrate"], terminal_width=200)
    again = runner.invoke(app, ["warehouse", "migrate"], terminal_width=200)

    assert migrated.exit_code == 0, migrated.output
    assert "migrated; the old table is kept as legacy.old_predictions_v1" in " ".join(migrated.output.split())  # rich wraps
    assert "already has this layout" in again.output
    assert stack.warehouse.query("SELECT item_id, predicted_label, predicted_value FROM legacy.old_predictions") == [("I1", "BOX", None)]
    assert stack.warehouse.query("SELECT COUNT(*) FROM legacy.old_predictions_v1") == [(1,)]


def test_local_put_copies_a_table_into_the_stacks_s3(state_file, stack, tmp_path):
    table = tmp_path / "my-table.csv"
    table.write_text("item_id,mean radius,target\nI1,12.5,1\n")

    copied = runner.invoke(app, ["local", "put", str(table), "s3://my-own-data/tables/my-table.csv"])
    refused = runner.invoke(app, ["local", "put", str(table), "my-own-data/tables/"])

    assert copied.exit_code == 0, copied.output
    stored = stack.client("s3").get_object(Bucket="my-own-data", Key="tables/my-table.csv")["Body"].read()
    assert stored == table.read_bytes()
    assert refused.exit_code == 2 and "is not an object URI" in " ".join(refused.output.split())


def test_models_show_tells_each_features_share_of_blank_cells(state_file, aws):
    table = synthesize(600, seed=7)
    table.loc[table.index[:30], "material"] = None  # 30 of 600 rows: blank cells in the CSV
    aws.s3.put_object(Bucket=DATA_BUCKET, Key="catalogue/blank-material.csv", Body=table.to_csv(index=False).encode())
    document = valid_config(model_name="cli-blanks")
    document["data"] = {**document["data"], "uri": f"s3://{DATA_BUCKET}/catalogue/blank-material.csv"}
    aws.drop("configs/train/cli-blanks.json", json.dumps(document).encode())
    (run,) = aws.runs("train-cli-blanks-")
    assert run["status"] == "SUCCEEDED"

    shown = runner.invoke(app, ["models", "show", "cli-blanks"], terminal_width=300)

    assert shown.exit_code == 0, shown.output
    assert "missing values (training and validation rows): material 5.0%" in " ".join(shown.output.split()), shown.output
