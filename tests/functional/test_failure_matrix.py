"""GIVEN a fault in any Task state of either workflow, THEN people hear of a permanent one once, and never of a transient one.

Faults are injected in front of the state's integration (mlrelay/local/faults.py).
A permanent fault's error matches no Retry, so the state's Catch takes it; a
transient one is the first error of the state's own Retry, once. The failure
path itself (ReportFailure, MarkRunFailed) is the thing that alerts, so it is
not in the matrix; its own failures still fail the run.
"""

from __future__ import annotations

import json

import pytest

from mlrelay.local.faults import PERMANENT_ERROR
from tests.conftest import ROOT
from tests.functional.conftest import DRIFTED_URI, LABELS_URI
from tests.state_machines import load, task_states

pytestmark = pytest.mark.functional

ASL = {name: load(ROOT / "statemachines" / f"{name}.asl.json") for name in ("training", "inference")}
FAILURE_PATH = {"ReportFailure", "MarkRunFailed"}
SERVING_MODEL = "fm-serving"
COUNT_SQL = "SELECT COUNT(*) AS loaded"
# These read a failed statement's error; the step to resume (and to name) is the one that ran the statement.
REPORTED_AS = {"LoadFailed": "StartLoad", "CountFailed": "StartCount", "MonitoringRecordFailed": "RecordMonitoring"}
EARLY_END = "DynamoDb.ConditionalCheckFailedException"  # what the wait meets when the pipeline has already ended
QUALITY_RUN = {"mode": "quality", "catalogue_uri": LABELS_URI}  # labels judged against the serving model's stored predictions

# How a run reaches each state that the plain path does not: extra faults, config changes, warehouse refusals.
TRAINING_CASES = {
    "ReadPipelineOutcome": {"also": {"WaitForTrainingPipeline": EARLY_END}},
    "RegisterRejectedModel": {"config": {"approval": {"threshold": 0.99}}},
}
INFERENCE_CASES = {
    "ReadPipelineOutcome": {"also": {"WaitForInferencePipeline": EARLY_END}},
    "LoadFailed": {"refuse": "COPY stage_"},
    "CountFailed": {"refuse": COUNT_SQL},
    "MonitoringRecordFailed": {"refuse": "COPY monitor_"},
    "NotifyDataDrift": {"input": {"catalogue_uri": DRIFTED_URI}},  # only a drifted catalogue is news
    **{state: {"input": QUALITY_RUN} for state in ("JudgeModelQuality", "NotifyModelQuality", "RecordQualityMeasured")},
}


def matrix_states(workflow):
    return sorted(set(task_states(ASL[workflow])) - FAILURE_PATH)


def transient_error(workflow, state):
    return task_states(ASL[workflow])[state]["Retry"][0]["ErrorEquals"][0]


def slug(state):
    return f"fm-{state.lower()}"


def settle(aws, run_names):
    """Wait until every run has been alerted on, and the stack is quiet: any duplicate has arrived too."""
    for name in run_names:
        aws.slack_posts(name, timeout=20)
    aws.settle()


def inject_case(aws, prefix, state, case):
    aws.stack.faults.fail_state(prefix, state)
    for other, error in case.get("also", {}).items():
        aws.stack.faults.fail_state(prefix, other, error=error)


def inject_transient_everywhere(aws, workflow, prefix):
    for state in matrix_states(workflow):
        aws.stack.faults.fail_state(prefix, state, error=transient_error(workflow, state), times=1)


@pytest.fixture(scope="module")
def training_runs(aws, early_pipelines):
    """All at once: a run per Task state failing permanently, and two runs where every state fails once."""
    for state in matrix_states("training"):
        case = TRAINING_CASES.get(state, {})
        inject_case(aws, f"train-{slug(state)}-", state, case)
        aws.drop_training_config(slug(state), **case.get("config", {}))
    inject_transient_everywhere(aws, "training", "train-fm-transient-approved-")
    aws.drop_training_config("fm-transient-approved")
    inject_transient_everywhere(aws, "training", "train-fm-transient-early-")
    early_pipelines.append("train-fm-transient-early-")
    aws.drop_training_config("fm-transient-early", approval={"threshold": 0.99})  # ends rejected, by way of the early path
    aws.drop_training_config(SERVING_MODEL)
    aws.stack.runtime.wait_idle()
    names = [slug(s) for s in matrix_states("training")] + ["fm-transient-approved", "fm-transient-early", SERVING_MODEL]
    runs = {name: aws.runs(f"train-{name}-") for name in names}
    settle(aws, [run["name"] for name in names[:-3] for run in runs[name]])
    return runs


@pytest.fixture(scope="module")
def serving_model(aws, training_runs):
    (run,) = training_runs[SERVING_MODEL]
    assert run["status"] == "SUCCEEDED"
    return aws.on_demand_input(SERVING_MODEL)


@pytest.fixture(scope="module")
def inference_runs(aws, serving_model, early_pipelines):
    """All at once, as the trigger would start them for the serving model: the same cases as for training."""
    arn = aws.stack.info.outputs["InferenceStateMachineArn"]
    names = []

    def start(name, **run_input):
        run_id = f"infer-{SERVING_MODEL}-{name}"
        run_input = {**serving_model, **run_input, "run_id": run_id}
        aws.sfn.start_execution(stateMachineArn=arn, name=run_id, input=json.dumps(run_input))
        names.append(name)
        return run_id

    for state in matrix_states("inference"):
        case = INFERENCE_CASES.get(state, {})
        inject_case(aws, f"infer-{SERVING_MODEL}-{slug(state)}", state, case)
        if "refuse" in case:
            run_id = f"infer-{SERVING_MODEL}-{slug(state)}"
            aws.stack.faults.refuse_statement(case["refuse"], "ERROR: injected database failure", run_id=run_id)
        start(slug(state), **case.get("input", {}))
    for kind in ("approved", "early"):
        inject_transient_everywhere(aws, "inference", f"infer-{SERVING_MODEL}-fm-transient-{kind}")
    early_pipelines.append(f"infer-{SERVING_MODEL}-fm-transient-early")
    start("fm-transient-approved", catalogue_uri=DRIFTED_URI)  # so it passes NotifyDataDrift too
    start("fm-transient-early")
    inject_transient_everywhere(aws, "inference", f"infer-{SERVING_MODEL}-fm-transient-quality")
    start("fm-transient-quality", **QUALITY_RUN)
    for state in REPORTED_AS:
        run_id = f"infer-{SERVING_MODEL}-fm-transient-{state.lower()}"
        aws.stack.faults.fail_state(run_id, state, error=transient_error("inference", state), times=1)
        aws.stack.faults.refuse_statement(INFERENCE_CASES[state]["refuse"], f"ERROR: the database refused ({state})", run_id=run_id)
        start(f"fm-transient-{state.lower()}")
    runs = {name: aws.runs(f"infer-{SERVING_MODEL}-{name}", machine="inference") for name in names}
    settle(aws, [runs[slug(state)][0]["name"] for state in matrix_states("inference")])
    return runs


def assert_alerted_once(aws, workflow, state, runs, identical=()):
    """One alert by Slack and one by SNS, naming the step and the resume command.

    `identical`: runs of the matrix that failed the very same way (the same step reported, the same error, the
    same model); identical failures fold into one alert, so the group has one, every run is counted, and a later post
    names each folded run with its resume command.
    """
    (run,) = runs
    assert run["status"] == "FAILED"
    fired = [f.target for f in aws.stack.faults.fired_in(run["name"]) if f.error == PERMANENT_ERROR]
    # no Retry matched: one attempt, then the Catch
    assert fired == [state], aws.failures_for(lambda m: m.get("run_id") == run["name"], at_least=0)
    reported = REPORTED_AS.get(state, state)
    names = [run["name"], *(other["name"] for other in identical)]
    # a state after the notice (RecordRunSucceeded) also lets the promotion or load notice through
    posts = {json.dumps(p, ensure_ascii=False): p for name in names for p in aws.slack_posts(name, timeout=1) if "failed" in p["text"]}
    (text,) = [text for text, post in posts.items() if post["text"] == f"❌ {workflow} run failed at {reported}"]
    assert PERMANENT_ERROR in text and any(f"mlrelay runs resume {name}" in text for name in names)
    for name in names:  # each run is named with its resume command: in the alert, or in the post naming folded runs
        assert any(f"runs resume {name}`" in json.dumps(post) for post in aws.slack_posts(f"runs resume {name}`", timeout=10))
    notifications = [n for name in names for n in aws.sns_messages(name, timeout=1) if "failed" in n["Subject"]]
    (notification,) = {n["Message"]: n for n in notifications if n["Subject"] == f"{workflow} run failed at {reported}"}.values()
    assert any(f"mlrelay runs resume {name}" in notification["Message"] for name in names)
    if identical:
        key = f"failed|{workflow}|{SERVING_MODEL}|{reported}|{PERMANENT_ERROR}"
        item = aws.dynamodb.get_item(TableName=aws.stack.applied.ref("AlertsTable"), Key={"collapse_key": {"S": key}})["Item"]
        assert len(item["message_ids"]["SS"]) == len(names)  # the folded failure is counted, not lost


def assert_retried_unseen(aws, workflow, runs):
    """The run succeeded, every Task state it entered failed once first, and nobody heard of a failure."""
    (run,) = runs
    assert run["status"] == "SUCCEEDED"
    history = aws.sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
    entered = {e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
    fired = [f.target for f in aws.stack.faults.fired_in(run["name"])]
    assert len(fired) == len(set(fired)) and set(fired) == entered & set(matrix_states(workflow))
    assert not aws.failures_for(lambda m: m.get("run_id") == run["name"], at_least=0)
    assert not [post for post in aws.slack_posts(run["name"], timeout=0) if "failed" in post["text"]]
    return set(fired)


def test_the_matrix_reaches_every_state_it_names():
    for workflow, cases in (("training", TRAINING_CASES), ("inference", INFERENCE_CASES)):
        assert set(cases) <= set(matrix_states(workflow)), workflow
        assert FAILURE_PATH <= set(task_states(ASL[workflow])), "the failure path was renamed: update FAILURE_PATH"


@pytest.mark.parametrize("state", matrix_states("training"))
def test_a_permanent_fault_in_a_training_state_alerts_once_by_slack_and_sns(aws, training_runs, state):
    assert_alerted_once(aws, "training", state, training_runs[slug(state)])


@pytest.mark.parametrize("state", matrix_states("inference"))
def test_a_permanent_fault_in_an_inference_state_alerts_once_by_slack_and_sns(aws, inference_runs, state):
    # A failed statement is reported at the step that ran it: those two runs fail identically, and fold.
    reported = REPORTED_AS.get(state, state)
    same_way = [other for other, target in REPORTED_AS.items() if reported in (other, target)]
    partners = [inference_runs[slug(s)][0] for s in (*same_way, reported) if s != state and slug(s) in inference_runs]
    assert_alerted_once(aws, "inference", state, inference_runs[slug(state)], identical=partners)


def test_transient_faults_in_every_training_state_are_retried_and_nobody_is_alerted(aws, training_runs):
    covered = assert_retried_unseen(aws, "training", training_runs["fm-transient-approved"])
    covered |= assert_retried_unseen(aws, "training", training_runs["fm-transient-early"])

    assert covered == set(matrix_states("training"))


def test_transient_faults_in_every_inference_state_are_retried_and_nobody_is_alerted(aws, inference_runs):
    covered = assert_retried_unseen(aws, "inference", inference_runs["fm-transient-approved"])
    covered |= assert_retried_unseen(aws, "inference", inference_runs["fm-transient-early"])
    covered |= assert_retried_unseen(aws, "inference", inference_runs["fm-transient-quality"])

    assert covered == set(matrix_states("inference")) - set(REPORTED_AS)


@pytest.mark.parametrize("state", sorted(REPORTED_AS))
def test_a_transient_fault_reading_a_failed_statement_is_retried_and_the_databases_error_reported(aws, inference_runs, state):
    (run,) = inference_runs[f"fm-transient-{state.lower()}"]

    assert run["status"] == "FAILED"
    assert [f.target for f in aws.stack.faults.fired_in(run["name"])] == [state]
    (message,) = aws.failures_for(lambda m: m.get("run_id") == run["name"])
    assert message["state"] == REPORTED_AS[state]
    assert message["cause"] == f"ERROR: the database refused ({state})"
