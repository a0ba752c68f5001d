"""GIVEN each template, WHEN a user runs `mlrelay init` and `mlrelay submit --data`, THEN its own test passes, the model
is trained and promoted, and a monthly run puts a prediction per sample row in the warehouse."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from typer.testing import CliRunner

from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.templates import TEMPLATES
from mlrelay.warehouse_client import connection_from, run_statement

pytestmark = pytest.mark.functional
runner = CliRunner()
NAMES = {"tabular-classification": "tpl-packaging", "regression": "tpl-weight", "text-classification": "tpl-titles"}


@pytest.fixture(scope="module")
def submitted(stack, aws, tmp_path_factory):
    """Every template initialised and submitted (text-classification waiting for its outcome), then each model's
    monthly run, all at once; the regression folder is submitted a second time beside them."""
    state = tmp_path_factory.mktemp("state") / "local.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLRELAY_STATE_FILE", str(state))
        write_state(stack.info)
        parent = tmp_path_factory.mktemp("models")
        initialised = {t: runner.invoke(app, ["init", name, "--template", t, "--directory", str(parent)]) for t, name in NAMES.items()}
        # The templates' own tests run beside the training runs, as a user would run them first.
        own_tests = {t: subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(parent / name / "tests")],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for t, name in NAMES.items()}
        submits = {}
        for template in ("regression", "tabular-classification", "text-classification"):
            folder = parent / NAMES[template]
            waits = ["--wait"] if template == "text-classification" else ["--no-wait"]
            submits[template] = runner.invoke(app, ["submit", str(folder), "--data", str(folder / "data" / "sample.csv"), *waits],
                                              terminal_width=200)
        runs = {t: aws.runs(f"train-{name}-", timeout=300) for t, name in NAMES.items()}
        resubmitted = runner.invoke(app, ["submit", str(parent / NAMES["regression"]), "--data",
                                          str(parent / NAMES["regression"] / "data" / "sample.csv"), "--no-wait"], terminal_width=200)
    run_statement(aws.data, connection_from(aws.stack.info.outputs),
                  sqls=create_table_sqls(PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))))
    with ThreadPoolExecutor(len(NAMES)) as pool:
        monthly = dict(zip(NAMES, pool.map(lambda name: aws.monthly_run(name, "2026-12"), NAMES.values()), strict=True))
    tests = {t: (process.wait(timeout=300), process.stdout.read()) for t, process in own_tests.items()}
    aws.runs("train-tpl-weight-", timeout=300)  # the second regression run ends inside this module
    return parent, initialised, tests, submits, runs, resubmitted, monthly


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_template_becomes_a_promoted_model_with_monthly_predictions_in_the_warehouse(aws, submitted, template):
    parent, initialised, tests, submits, runs, _, monthly_runs = submitted
    name = NAMES[template]

    assert initialised[template].exit_code == 0, initialised[template].output
    returncode, test_output = tests[template]
    assert returncode == 0 and "2 passed" in test_output, test_output
    assert submits[template].exit_code == 0, submits[template].output
    (run,) = runs[template]
    output = json.loads(aws.sfn.describe_execution(executionArn=run["executionArn"])["output"])
    assert run["status"] == "SUCCEEDED" and output["registration"]["status"] == "Approved"
    assert output["registration"]["version"] == 1
    monthly = monthly_runs[template]
    assert monthly["status"] == "SUCCEEDED"
    sample = pd.read_csv(parent / name / "data" / "sample.csv")
    column = "predicted_value" if template == "regression" else "predicted_label"
    loaded = aws.stack.warehouse.query(
        f"SELECT count(*), count(DISTINCT item_id), count({column}) FROM mlrelay.predictions WHERE run_id = '{monthly['name']}'")
    assert loaded == [(len(sample), len(sample), len(sample))]


def test_submit_uploads_the_table_and_code_then_prints_the_promotion(aws, submitted):
    parent, _, _, submits, *_ = submitted
    text = " ".join(submits["text-classification"].output.split())

    assert f"data: {parent}/tpl-titles/data/sample.csv" in text and "/data/tpl-titles/train.csv" in text
    assert "code: 2 files →" in text and "(uploaded)" in text
    assert "SUCCEEDED" in text and "tpl-titles v1: Approved" in text and "macro_f1" in text
    uploaded = aws.s3.get_object(Bucket=aws.bucket, Key="data/tpl-titles/train.csv")["Body"].read()
    assert uploaded == (parent / "tpl-titles" / "data" / "sample.csv").read_bytes()


def test_submitting_the_same_folder_again_uploads_neither_its_table_nor_its_code(submitted):
    resubmitted = submitted[5]
    text = " ".join(resubmitted.output.split())

    assert resubmitted.exit_code == 0, resubmitted.output
    assert "(unchanged, not uploaded again)" in text.split("data:")[1].split("code:")[0]
    assert "unchanged, not uploaded again" in text.split("code:")[1]


def test_init_refuses_an_unknown_template_a_bad_name_and_an_existing_folder(tmp_path):
    unknown = runner.invoke(app, ["init", "fine-name", "--template", "vision", "--directory", str(tmp_path)])
    bad_name = runner.invoke(app, ["init", "Bad_Name", "--template", "regression", "--directory", str(tmp_path)])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    taken = runner.invoke(app, ["init", "taken", "--template", "regression", "--directory", str(tmp_path)])

    assert unknown.exit_code == 2 and "no template 'vision'" in " ".join(unknown.output.split())
    assert bad_name.exit_code == 2 and "cannot be a model name" in " ".join(bad_name.output.split())
    assert taken.exit_code == 2 and "already exists" in " ".join(taken.output.split())
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
