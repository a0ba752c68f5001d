"""GIVEN a config with segments, WHEN it is dropped, THEN each segment trains as a model of its own, in parallel, one
segment's failure fails only itself, people hear once per run, and a resume trains only the failed segments."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from chalicelib.aws.model_versions import ModelVersions
from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.resume_client import wait_for_execution
from mlrelay.synthetic import synthesize
from tests.conftest import ROOT, valid_config
from tests.functional.conftest import DATA_BUCKET
from tests.state_machines import load, task_states

pytestmark = pytest.mark.functional

FAMILY = "per-country"
COUNTRIES = {"de": 0.02, "fr": 0.02, "pl": 0.7}  # label noise: pl's labels are mostly random, so its model is rejected
TABLE = f"s3://{DATA_BUCKET}/segments/countries.csv"


@pytest.fixture(scope="module")
def family(aws):
    table = pd.concat([synthesize(400, seed=20 + i, label_noise=noise).assign(country=country.upper())
                       for i, (country, noise) in enumerate(COUNTRIES.items())])
    aws.s3.put_object(Bucket=DATA_BUCKET, Key=TABLE.split("/", 3)[3], Body=table.to_csv(index=False).encode())
    aws.stack.faults.fail_state(f"segment-{FAMILY}-fr-", "EvaluateCandidate", times=1)  # fr's first attempt fails
    aws.drop_training_config(FAMILY, data={**valid_config()["data"], "uri": TABLE},
                             segments={"column": "country", "min_rows": 100, "max_concurrency": 2})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{FAMILY}-", machine="segments", timeout=240)
    return run


def versions(aws, model):
    return [(v.version, v.status) for v in ModelVersions(aws.stack.info.outputs["ModelsTableName"]).versions(model)]


def test_each_segment_is_a_model_of_its_own_and_a_failed_one_fails_only_itself(aws, family):
    assert family["status"] == "FAILED"
    assert versions(aws, f"{FAMILY}-de") == [(1, "Approved")]
    assert versions(aws, f"{FAMILY}-pl") == [(1, "Rejected")]
    assert versions(aws, f"{FAMILY}-fr") == []
    children = aws.runs("segment-", machine="training", timeout=0)
    assert sorted(c["status"] for c in children if FAMILY in c["name"]) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]


def test_people_hear_once_for_the_run_naming_each_segments_outcome(aws, family):
    (post,) = failure_posts(aws, family["name"])
    assert post["text"] == "❌ segments run failed at TrainSegments"
    text = json.dumps(post, ensure_ascii=False)
    assert "1 segment(s) failed" in text and "Rejected v1" in text and "Approved v1" in text
    assert not [p for p in aws.stack.slack.messages if "segment-" in json.dumps(p.message)
                and family["name"] not in json.dumps(p.message)]  # no alert of a segment's own


def test_a_resume_trains_only_the_failed_segment(aws, family):
    answer = aws.invoke("resume_run", {"run_id": family["name"]})
    final = wait_for_execution(aws.sfn, answer["execution_arn"], timeout_seconds=240)

    assert (answer["from_state"], final) == ("TrainSegments", "SUCCEEDED")
    assert versions(aws, f"{FAMILY}-fr") == [(1, "Approved")]
    assert versions(aws, f"{FAMILY}-de") == [(1, "Approved")]  # not trained again
    children = [c for c in aws.runs("segment-", machine="training", timeout=0) if FAMILY in c["name"]]
    assert len(children) == 4  # three first attempts, and fr's second
    (notice,) = aws.notifications_for(lambda m: m.get("kind") == "segments_trained" and m["run_id"] == family["name"])
    assert {s["value"]: s["status"] for s in notice["segments"]} == {"DE": "Approved", "FR": "Approved", "PL": "Rejected"}


def test_a_segments_model_predicts_its_own_segments_items_only(aws, family):
    run_input = aws.on_demand_input(f"{FAMILY}-de")  # its approved version's config names the segment

    table = aws.stack.info.outputs["PredictionsTableName"]
    (loaded,) = aws.stack.warehouse.query(f"SELECT COUNT(*) FROM {table} WHERE run_id = '{run_input['run_id']}'")[0]
    assert loaded == 400  # DE's items of the three countries' 1,200


def failure_posts(aws, run_name):
    """The run's failure alerts, once the stack is quiet: every alert and any duplicate has come."""
    aws.settle()
    return [p for p in aws.slack_posts(run_name, timeout=0) if "failed" in p["text"]]


MATRIX = ("RecordRunStarted", "PlanSegments", "SummarizeSegments", "NotifySegmentsTrained", "RecordRunSucceeded")


@pytest.fixture(scope="module")
def matrix_runs(aws, family):
    """A one-segment family per Task state of the segments workflow, failing there; one where every state fails once."""
    asl = load(ROOT / "statemachines" / "segments.asl.json")
    assert set(MATRIX) | {"ReportFailure", "MarkRunFailed", "TrainSegment"} == set(task_states(asl))
    names = {}
    for state in (*MATRIX, "transient"):
        name = f"fm-seg-{state.lower()}"
        if state == "transient":
            for each in MATRIX:
                aws.stack.faults.fail_state(f"train-{name}-", each, error=task_states(asl)[each]["Retry"][0]["ErrorEquals"][0], times=1)
        else:
            aws.stack.faults.fail_state(f"train-{name}-", state)
        aws.drop_training_config(name, data={**valid_config()["data"], "uri": TABLE}, segments={"column": "country", "values": ["DE"]})
        names[state] = name
    aws.stack.runtime.wait_idle()
    return {state: aws.runs(f"train-{name}-", machine="segments", timeout=240)[0] for state, name in names.items()}


@pytest.mark.parametrize("state", MATRIX)
def test_a_permanent_fault_in_a_segments_state_fails_the_run_there_and_alerts_once(aws, matrix_runs, state):
    run = matrix_runs[state]

    assert run["status"] == "FAILED"
    (post,) = failure_posts(aws, run["name"])
    assert post["text"] == f"❌ segments run failed at {state}"
    assert f"mlrelay runs resume {run['name']}" in json.dumps(post, ensure_ascii=False)


def test_transient_faults_in_every_segments_state_are_retried_and_nobody_is_alerted(aws, matrix_runs):
    run = matrix_runs["transient"]

    assert run["status"] == "SUCCEEDED"
    assert sorted(f.target for f in aws.stack.faults.fired_in(run["name"])) == sorted(MATRIX)
    assert not [p for p in aws.slack_posts(run["name"], timeout=2) if "failed" in p["text"]]


def test_models_list_and_show_group_a_family(aws, family, monkeypatch, tmp_path):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(aws.stack.info)
    runner = CliRunner()

    listed = runner.invoke(app, ["models", "list"], terminal_width=200)
    shown = runner.invoke(app, ["models", "show", FAMILY], terminal_width=200)

    assert listed.exit_code == 0 and shown.exit_code == 0, listed.output + shown.output
    assert f"{FAMILY}: a family of" in listed.output and "country=DE" in listed.output
    lines = {line.split()[0]: line for line in shown.output.splitlines() if line.strip().startswith("country=")}
    assert set(lines) == {"country=DE", "country=FR", "country=PL"}
    assert "Rejected" in lines["country=PL"] or "rejected" in lines["country=PL"]
