"""`mlrelay --stage dev ...` reaches a stack as a deployed one is reached: CloudFormation's outputs, the AWS
credential chain, function names by stage. The embedded stack records itself in CloudFormation the way a
deploy leaves it, and the session's AWS_* variables point the credential chain at it, so these commands take
the very path they take against AWS.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from mlrelay.cli.main import app

pytestmark = pytest.mark.functional
MODEL = "deployed-cli"
runner = CliRunner()


def mlrelay(*args):
    result = runner.invoke(app, ["--stage", "dev", *args], terminal_width=220)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def trained(aws, tmp_path_factory, monkeypatch_module):
    # No local state file: only the deployed path can answer.
    monkeypatch_module.setenv("MLRELAY_STATE_FILE", str(tmp_path_factory.mktemp("none") / "absent.json"))
    aws.drop_training_config(MODEL)
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{MODEL}-")
    assert run["status"] == "SUCCEEDED"
    return run["name"]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_runs_list_and_show_read_the_deployed_stack(trained):
    listed_code, listed = mlrelay("runs", "list", "--limit", "500")
    shown_code, shown = mlrelay("runs", "show", trained)

    assert listed_code == 0 and trained in listed
    assert shown_code == 0 and "LoadTrainingConfig Task succeeded" in shown and "RecordRunSucceeded" in shown


def test_runs_show_estimates_what_the_run_would_cost_and_list_sums_it_by_model_and_month(trained):
    code, shown = mlrelay("runs", "show", trained)
    summed_code, summed = mlrelay("runs", "list", "--cost", "--limit", "500")

    assert code == 0 and "Step Functions state transitions" in shown and "Lambda compute" in shown
    assert "SageMaker ml.m5.large" in shown and "instance-s" in shown  # Split, Train, Transform, Evaluate ran there
    assert re.search(r"cost: about \$0\.\d{4} \(us-east-1 list prices of \d{4}-\d{2}-\d{2}", shown)
    assert summed_code == 0 and re.search(rf"{MODEL} \d{{4}}-\d{{2}} 1 0\.\d{{4}}", summed)


def test_runs_logs_reads_the_functions_log_groups_filtered_by_the_run(trained):
    code, output = mlrelay("runs", "logs", trained)

    assert code == 0 and "mlrelay-dev-on_config_dropped" in output and "training run started" in output


def test_runs_logs_step_prints_the_jobs_own_output_from_its_cloudwatch_logs_stream(trained):
    code, output = mlrelay("runs", "logs", trained, "--step", "Train")
    split_code, split = mlrelay("runs", "logs", trained, "--step", "Split")
    missing_code, missing = mlrelay("runs", "logs", trained, "--step", "Nope")

    assert code == 0 and "Train: TrainingJob pipelines-" in output and "(/aws/sagemaker/TrainingJobs)" in output
    assert re.search(r"trained \w+ \(multiclass_classification\) on \d+ rows", output)
    assert split_code == 0 and "(/aws/sagemaker/ProcessingJobs)" in split and re.search(r"split \d+ rows: \d+ train", split)
    assert missing_code == 1 and "has no job for step 'Nope'; its steps with jobs: Split, Train" in missing


def test_models_and_warehouse_commands_work_there_too(trained):
    models_code, models = mlrelay("models", "show", MODEL)
    query_code, query = mlrelay("warehouse", "query", "SELECT 41 + 1 AS answer")

    assert models_code == 0 and "v1 (Approved)" in models
    assert query_code == 0 and "42" in query


def test_models_list_and_a_decision_go_through_the_deployed_stack(trained):
    listed_code, listed = mlrelay("models", "list")
    refused_code, refused = mlrelay("models", "approve", MODEL, "9", "--reason", "no such version")

    assert listed_code == 0 and "deployed-" in listed and "v1 macro_f1" in listed  # rich cuts the name to the width
    assert refused_code == 1 and f"{MODEL} has no v9 (versions: v1)" in refused  # decide_model answered, as the caller


def test_resume_goes_through_the_deployed_function(trained):
    code, output = mlrelay("runs", "resume", trained)

    assert code == 0 and "already succeeded" in output


def test_a_stage_with_no_stack_is_one_clear_line():
    result = runner.invoke(app, ["--stage", "nope", "runs", "list"])

    assert result.exit_code == 1 and "no stack mlrelay-nope in us-east-1" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_without_credentials_the_cli_says_so_in_one_line(aws, monkeypatch, tmp_path):
    aws.stack.runtime.wait_idle()  # the functions share these variables: let them finish first
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = runner.invoke(app, ["--stage", "dev", "runs", "list"])

    assert result.exit_code == 1 and "no AWS credentials found" in result.output and "Traceback" not in result.output
