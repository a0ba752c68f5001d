"""GIVEN a run that failed once at step S, WHEN it is resumed, THEN only S and what follows run again.

Every step S on each workflow's plain path fails once (a fault in front of
its integration), the run is resumed through the resume_run function, and the
test counts, across both executions, how often each state was entered and how
often the real work ran: pipeline steps started, COPY statements executed,
model versions registered, prediction rows loaded.
"""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.aws.model_versions import ModelVersions
from mlrelay.resume_client import wait_for_execution
from mlrelay.runs import history
from tests.conftest import ROOT
from tests.functional.conftest import DRIFTED_URI, LABELS_URI
from tests.state_machines import load

pytestmark = pytest.mark.functional

TRAINING_PATH = [
    "RecordRunStarted", "LoadTrainingConfig", "StartTrainingPipeline", "WaitForTrainingPipeline",
    "EvaluateCandidate", "RegisterApprovedModel", "StartDeployment", "NotifyOutcome", "RecordRunSucceeded",
]
INFERENCE_PATH = [
    "RecordRunStarted", "ResolveApprovedModel", "PrepareInference", "StartInferencePipeline", "WaitForInferencePipeline",
    "RecordMonitoring", "CheckMonitoringRecord", "StartLoad", "CheckLoad", "StartCount", "CheckCount", "VerifyRowCount",
    "NotifyPredictionsLoaded", "RecordRunSucceeded",
]
# The paths some runs take instead: a pipeline that ended before the workflow waited, a candidate below the floor.
EARLY_TRAINING_PATH = TRAINING_PATH[:4] + ["ReadPipelineOutcome"] + TRAINING_PATH[4:]
REJECTED_PATH = TRAINING_PATH[:5] + ["RegisterRejectedModel"] + TRAINING_PATH[7:]  # a rejected version deploys nothing
EARLY_INFERENCE_PATH = INFERENCE_PATH[:5] + ["ReadPipelineOutcome"] + INFERENCE_PATH[5:]
# A drifted catalogue is announced, then loaded.
DRIFTED_PATH = INFERENCE_PATH[:7] + ["NotifyDataDrift"] + INFERENCE_PATH[7:]
TRAINING_CASES = {state: (TRAINING_PATH, {}) for state in TRAINING_PATH} | {
    "ReadPipelineOutcome": (EARLY_TRAINING_PATH, {}),
    "RegisterRejectedModel": (REJECTED_PATH, {"approval": {"threshold": 0.99}}),
}
INFERENCE_CASES = {state: (INFERENCE_PATH, state) for state in INFERENCE_PATH} | {
    "ReadPipelineOutcome": (EARLY_INFERENCE_PATH, "ReadPipelineOutcome"),
    "RefusedCopy": (INFERENCE_PATH, "StartLoad"),  # failures inside the work: the database refuses once
    "RefusedCount": (INFERENCE_PATH, "StartCount"),
    "RefusedMonitoringCopy": (INFERENCE_PATH, "RecordMonitoring"),
    "NotifyDataDrift": (DRIFTED_PATH, "NotifyDataDrift"),
}
# Labels judged against stored predictions: the quality pipeline, then the verdict.
QUALITY_PATH = INFERENCE_PATH[:5] + ["JudgeModelQuality", "NotifyModelQuality", "RecordQualityMeasured"]
QUALITY_CASES = {state: QUALITY_PATH for state in ("PrepareInference", "WaitForInferencePipeline", *QUALITY_PATH[5:])}
FAIL_ONCE = "Injected.PermanentFailure"  # matches no Retry: the run fails at once
SERVING_MODEL = "rs-serving"


def slug(state):
    return f"rs-{state.lower()}"


POLLS = {"CheckLoad", "CheckCount", "CheckMonitoringRecord"}  # a bounded loop may check a statement more than once


def assert_entered(counts, path, expected):
    polled = [min(counts.get(s, 0), want) if s in POLLS else counts.get(s, 0) for s, want in zip(path, expected, strict=True)]
    assert polled == expected
    assert all(counts.get(s, 0) >= want for s, want in zip(path, expected, strict=True))


def assert_entered_once_except_the_failed_step(counts, path, state):
    position = path.index(state)
    assert_entered(counts, path, [1] * position + [2] + [1] * (len(path) - position - 1))


def entered(aws, execution_arns):
    counts = {}
    for arn in execution_arns:
        for event in history(aws.sfn, arn):
            if "stateEnteredEventDetails" in event:
                name = event["stateEnteredEventDetails"]["name"]
                counts[name] = counts.get(name, 0) + 1
    return counts


def failures_of(aws, run):
    """What the failures queue said of a run (both attempts): the state and cause to read when a resume fails."""
    messages = aws.failures_for(lambda m: m.get("run_id") == run["name"], at_least=0)
    return [(m.get("state"), m.get("error"), m.get("cause")) for m in messages]


def resume_all(aws, failed_runs):
    answers = {}
    for key, run in failed_runs.items():
        assert run["status"] == "FAILED", key
        answers[key] = aws.invoke("resume_run", {"run_id": run["name"]})
    for answer in answers.values():
        assert answer["outcome"] == "resumed", answer
        answer["final"] = wait_for_execution(aws.sfn, answer["execution_arn"], timeout_seconds=120)
    aws.stack.wait_idle()
    return answers


@pytest.fixture(scope="module")
def training_resumes(aws, early_pipelines):
    early_pipelines.append(f"train-{slug('ReadPipelineOutcome')}-")
    for state, (_, config) in TRAINING_CASES.items():
        aws.stack.faults.fail_state(f"train-{slug(state)}-", state, error=FAIL_ONCE, times=1)
        aws.drop_training_config(slug(state), **config)
    aws.stack.runtime.wait_idle()
    failed = {state: aws.runs(f"train-{slug(state)}-")[0] for state in TRAINING_CASES}
    return failed, resume_all(aws, failed)


@pytest.mark.parametrize("state", sorted(TRAINING_CASES))
def test_a_training_run_resumed_after_a_failure_redoes_only_the_failed_step_and_what_follows(aws, training_resumes, state):
    failed, answers = training_resumes
    run, answer = failed[state], answers[state]
    path, config = TRAINING_CASES[state]

    assert answer["from_state"] == state and answer["final"] == "SUCCEEDED", failures_of(aws, run)
    assert_entered_once_except_the_failed_step(entered(aws, [run["executionArn"], answer["execution_arn"]]), path, state)
    steps = aws.stack.pipelines.step_runs_for(run["name"])
    assert steps and len(steps) == len(set(steps))  # each pipeline step's work ran once
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"]).versions(slug(state))
    assert [(v.version, v.status) for v in versions] == [(1, "Rejected" if config else "Approved")]
    record = aws.run_record(run["name"])
    assert record["status"] == "SUCCEEDED" and record["resume_count"] == "1"


def test_a_failed_pipeline_step_is_retried_from_that_step_only(aws):
    aws.stack.faults.fail_pipeline_step("train-rs-pipeline-step-", "Train", times=1)
    aws.drop_training_config("rs-pipeline-step")
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs("train-rs-pipeline-step-")
    assert run["status"] == "FAILED"

    answer = aws.invoke("resume_run", {"run_id": run["name"]})
    final = wait_for_execution(aws.sfn, answer["execution_arn"], timeout_seconds=120)

    assert answer["from_state"] == "WaitForTrainingPipeline" and answer["retried_pipeline_execution_arn"]
    assert final == "SUCCEEDED"
    steps = aws.stack.pipelines.step_runs_for(run["name"])
    assert steps.count("Split") == 1 and steps.count("Train") == 2  # Split's output was reused, Train ran again
    assert steps.index("Evaluate") > len(steps) - 1 - steps[::-1].index("Train")  # the steps after Train ran after it
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"]).versions("rs-pipeline-step")
    assert [(v.version, v.status) for v in versions] == [(1, "Approved")]


@pytest.fixture(scope="module")
def serving_model(aws):
    """An approved model, and the input the trigger gives its on-demand inference runs."""
    aws.drop_training_config(SERVING_MODEL)
    aws.stack.runtime.wait_idle()
    (trained,) = aws.runs(f"train-{SERVING_MODEL}-")
    assert trained["status"] == "SUCCEEDED"
    return aws.on_demand_input(SERVING_MODEL)


@pytest.fixture(scope="module")
def inference_resumes(aws, serving_model, early_pipelines):
    arn = aws.stack.info.outputs["InferenceStateMachineArn"]
    early_pipelines.append(f"infer-{SERVING_MODEL}-{slug('ReadPipelineOutcome')}")
    for case in INFERENCE_CASES:
        run_id = f"infer-{SERVING_MODEL}-{slug(case)}"
        if case == "RefusedCopy":
            aws.stack.faults.refuse_statement("COPY stage_", "ERROR: 1023 Serializable isolation violation", run_id=run_id)
        elif case == "RefusedCount":
            aws.stack.faults.refuse_statement("SELECT COUNT(*) AS loaded", "ERROR: 57014 canceling statement", run_id=run_id)
        elif case == "RefusedMonitoringCopy":
            aws.stack.faults.refuse_statement("COPY monitor_", "ERROR: 1023 Serializable isolation violation", run_id=run_id)
        else:
            aws.stack.faults.fail_state(run_id, case, error=FAIL_ONCE, times=1)
        catalogue = {"catalogue_uri": DRIFTED_URI} if case == "NotifyDataDrift" else {}
        run_input = {**serving_model, **catalogue, "run_id": run_id}
        aws.sfn.start_execution(stateMachineArn=arn, name=run_id, input=json.dumps(run_input))
    failed = {case: aws.runs(f"infer-{SERVING_MODEL}-{slug(case)}", machine="inference")[0] for case in INFERENCE_CASES}
    return failed, resume_all(aws, failed)


@pytest.mark.parametrize("case", sorted(INFERENCE_CASES))
def test_an_inference_run_resumed_after_a_failure_redoes_only_the_failed_step_and_loads_once(aws, inference_resumes, case):
    failed, answers = inference_resumes
    run, answer = failed[case], answers[case]
    path, failed_at = INFERENCE_CASES[case]

    assert answer["from_state"] == failed_at and answer["final"] == "SUCCEEDED", failures_of(aws, run)
    counts = entered(aws, [run["executionArn"], answer["execution_arn"]])
    if case.startswith("Refused"):  # the statement ran, failed, was checked and reported; the resume ran both again
        position = path.index(failed_at)
        assert_entered(counts, path, [1] * position + [2, 2] + [1] * (len(path) - position - 2))
    else:
        assert_entered_once_except_the_failed_step(counts, path, failed_at)
    steps = aws.stack.pipelines.step_runs_for(run["name"])
    assert steps and len(steps) == len(set(steps))  # every pipeline step's work ran once
    copies = sum(1 for sql in aws.stack.warehouse.executed if sql.startswith("COPY stage_") and run["name"] in sql)
    assert copies == (2 if case == "RefusedCopy" else 1)
    table = aws.stack.info.outputs["PredictionsTableName"]
    (loaded,) = aws.stack.warehouse.query(f"SELECT COUNT(*) FROM {table} WHERE run_id = '{run['name']}'")[0]
    output = json.loads(aws.sfn.describe_execution(executionArn=answer["execution_arn"])["output"])
    assert loaded == output["verified"]["rows_loaded"] > 0  # one set of rows


@pytest.fixture(scope="module")
def quality_resumes(aws, serving_model):
    arn = aws.stack.info.outputs["InferenceStateMachineArn"]
    for state in QUALITY_CASES:
        run_id = f"quality-{SERVING_MODEL}-{slug(state)}"
        aws.stack.faults.fail_state(run_id, state, error=FAIL_ONCE, times=1)
        run_input = {**serving_model, "mode": "quality", "catalogue_uri": LABELS_URI, "run_id": run_id}
        aws.sfn.start_execution(stateMachineArn=arn, name=run_id, input=json.dumps(run_input))
    failed = {state: aws.runs(f"quality-{SERVING_MODEL}-{slug(state)}", machine="inference")[0] for state in QUALITY_CASES}
    return failed, resume_all(aws, failed)


@pytest.mark.parametrize("state", sorted(QUALITY_CASES))
def test_a_quality_run_resumed_after_a_failure_redoes_only_the_failed_step_and_measures_once(aws, quality_resumes, state):
    failed, answers = quality_resumes
    run, answer = failed[state], answers[state]

    assert answer["from_state"] == state and answer["final"] == "SUCCEEDED", failures_of(aws, run)
    assert_entered_once_except_the_failed_step(entered(aws, [run["executionArn"], answer["execution_arn"]]), QUALITY_PATH, state)
    assert aws.stack.pipelines.step_runs_for(run["name"]) == ["EvaluateQuality"]
    assert aws.read_json(f"runs/{SERVING_MODEL}/{run['name']}/quality/metrics.json")["data"]["matched_rows"] == 300
    record = aws.run_record(run["name"])
    assert (record["status"], record["quality_metric"], record["resume_count"]) == ("SUCCEEDED", "macro_f1", "1")


def test_every_step_a_run_can_resume_at_is_in_the_matrices():
    routes = {}
    for name in ("training", "inference"):
        choices = load(ROOT / "statemachines" / f"{name}.asl.json")["States"]["StartOrResume"]["Choices"]
        routes[name] = {c["StringEquals"] for c in choices if "StringEquals" in c}

    assert routes["training"] == set(TRAINING_CASES)
    assert routes["inference"] == {failed_at for _, failed_at in INFERENCE_CASES.values()} | set(QUALITY_CASES)


def test_resuming_a_succeeded_run_does_nothing_a_running_one_is_refused_and_an_unknown_one_named(aws, training_resumes):
    failed, _ = training_resumes
    aws.drop_training_config("rs-still-running")
    aws.stack.runtime.wait_idle()
    (running,) = aws.runs("train-rs-still-running-", timeout=0)
    deadline = time.monotonic() + 10
    while aws.run_record(running["name"]).get("status") != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)  # the ledger knows the run once RecordRunStarted has run

    during = aws.invoke("resume_run", {"run_id": running["name"]})
    done = aws.invoke("resume_run", {"run_id": failed["RecordRunSucceeded"]["name"]})
    unknown = aws.invoke("resume_run", {"run_id": "train-nope-0000000000000000"})

    assert during["outcome"] == "refused" and "still running" in during["message"]
    assert done["outcome"] == "nothing_to_do" and "already succeeded" in done["message"]
    assert unknown["outcome"] == "not_found" and "train-nope-0000000000000000" in unknown["message"]
    (finished,) = aws.runs("train-rs-still-running-")
    assert finished["status"] == "SUCCEEDED"
    assert [e["name"] for e in aws.runs("train-rs-still-running-")] == [running["name"]]  # no second execution


def test_a_lambda_step_that_already_succeeded_returns_its_recorded_output_without_working_again(aws, training_resumes):
    failed, _ = training_resumes
    run = failed["RecordRunSucceeded"]
    scheduled = next(
        json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in history(aws.sfn, run["executionArn"])
        if "taskScheduledEventDetails" in e and '"load_config"' in e["taskScheduledEventDetails"]["parameters"]
    )
    event = scheduled["Payload"]
    first = json.loads(aws.run_record(run["name"])["steps"]["load_config"]["M"]["output"]["S"])

    again = aws.invoke("training_step", event)
    changed = aws.invoke("training_step", {**event, "callback_timeout_seconds": 77})

    steps = aws.run_record(run["name"])["steps"]
    assert again == first
    assert changed["callback_timeout_seconds"] == 77  # another input is new work
    assert steps["load_config"]["M"]["attempts"] == {"N": "2"}  # the repeat was not counted as an attempt
