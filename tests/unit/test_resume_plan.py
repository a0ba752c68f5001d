"""What resuming a run means, from its ledger record."""

import json

import pytest

from chalicelib.resume.plan import NothingToDo, RecordedInput, Refused, Resume, plan_resume, recorded_inputs
from chalicelib.shared.messages import ConfigRef
from chalicelib.shared.runs import RunRecord

FAILED_AT_EVALUATE = {
    "run_id": "train-pt-1", "workflow": "training", "model_name": "pt",
    "config": {"bucket": "b", "key": "configs/train/pt.json", "version_id": "v1", "etag": "e"},
    "training": {"settings": {"approval": {}}}, "pipeline": {"execution_arn": "arn:p/e1", "outcome": {"status": "Succeeded"}},
    "failure": {"Error": "ValueError", "Cause": "boom"}, "failed_state": {"name": "EvaluateCandidate"},
}


def failed(state="EvaluateCandidate", document=FAILED_AT_EVALUATE, **fields):
    return RunRecord(
        run_id="train-pt-1", workflow="training", status="FAILED", failed_state=state,
        failed_execution_arn="arn:sfn:execution:train-pt-1", resume_input=json.dumps(document), **fields,
    )


def test_a_failed_run_re_enters_at_its_failed_step_with_that_steps_input_and_without_the_failure():
    plan = plan_resume(failed())

    assert isinstance(plan, Resume)
    assert (plan.from_state, plan.attempt, plan.execution_name) == ("EvaluateCandidate", 1, "train-pt-1-r1")
    assert "failure" not in plan.execution_input and "failed_state" not in plan.execution_input
    assert plan.execution_input["pipeline"] == FAILED_AT_EVALUATE["pipeline"]
    assert plan.execution_input["resume"] == {
        "from": "EvaluateCandidate", "attempt": 1, "previous_execution": "arn:sfn:execution:train-pt-1", "config_changed": False,
        "inputs_changed": [],
    }
    assert plan.retry_pipeline_arn is None


def test_a_run_that_failed_waiting_for_its_pipeline_retries_that_pipeline():
    plan = plan_resume(failed("WaitForTrainingPipeline"))

    assert plan.retry_pipeline_arn == "arn:p/e1"


def read_inputs(table="etag:t1", code="etag:c1"):
    parameters = [{"Name": "InputDataUri", "Value": "s3://data/pt.csv"}, {"Name": "InputDataVersion", "Value": table},
                  {"Name": "CodeUri", "Value": "s3://b/code/x.tar.gz"}, {"Name": "CodeVersion", "Value": code}]
    return {**FAILED_AT_EVALUATE, "training": {"settings": {"approval": {}, "pipeline_parameters": parameters}}}


def test_a_run_names_the_table_and_bundle_it_read_but_not_those_it_could_not_look_at():
    assert recorded_inputs(failed("WaitForTrainingPipeline", read_inputs(code="unknown"))) == [
        RecordedInput("table", "s3://data/pt.csv", "etag:t1")]
    assert recorded_inputs(failed("LoadTrainingConfig", read_inputs())) == []  # it reads them again anyway
    assert recorded_inputs(failed("EvaluateCandidate", read_inputs())) == []  # the pipeline ended: nothing reads them again
    assert recorded_inputs(failed("WaitForTrainingPipeline")) == []  # recorded before runs kept what they read


def test_a_pinned_run_names_the_sources_of_its_copies_and_a_reproduction_names_none():
    pinned = read_inputs()
    pinned["training"]["settings"]["inputs"] = {"table": {"source": "s3://data/pt.csv", "pinned": "s3://b/inputs/tables/d/data/"}}
    pinned["training"]["settings"]["pipeline_parameters"][0]["Value"] = "s3://b/inputs/tables/d/data/"  # what the pipeline read
    reproduction = {**pinned, "config": {**pinned.get("config", {}), "reproduces": {"model_name": "pt", "version": 1}}}

    assert recorded_inputs(failed("WaitForTrainingPipeline", pinned))[0] == RecordedInput("table", "s3://data/pt.csv", "etag:t1")
    assert recorded_inputs(failed("WaitForTrainingPipeline", reproduction)) == []  # it reads its copies, whatever changed


def test_a_changed_table_sends_a_plain_resume_back_to_the_config_so_the_pipeline_reads_it_again():
    table = recorded_inputs(failed("WaitForTrainingPipeline", read_inputs()))[0]

    plan = plan_resume(failed("WaitForTrainingPipeline", read_inputs()), changed=(table,))

    assert plan.from_state == "LoadTrainingConfig" and not plan.config_changed
    assert plan.retry_pipeline_arn is None  # not the failed execution, whose Split read the old rows
    assert plan.inputs_changed == ("the table s3://data/pt.csv",)
    assert plan.forget_steps == ("load_config",)  # its recorded settings name the old table's identity
    assert plan.execution_input["resume"]["inputs_changed"] == ["the table s3://data/pt.csv"]


def test_the_second_resume_is_attempt_two():
    assert plan_resume(failed(resume_count=1)).execution_name == "train-pt-1-r2"


def test_a_fixed_config_goes_back_to_the_step_that_reads_it_and_is_recorded():
    fixed = ConfigRef(bucket="b", key="runs/packaging-type/train-pt-1/resume-configs/1.json", version_id="v9")

    plan = plan_resume(failed("WaitForTrainingPipeline"), fixed)

    assert plan.from_state == "LoadTrainingConfig" and plan.config_changed
    assert plan.execution_input["config"]["key"] == "runs/packaging-type/train-pt-1/resume-configs/1.json"
    assert plan.retry_pipeline_arn is None  # the new parameters start a new pipeline execution


@pytest.mark.parametrize(
    ("record", "kind", "says"),
    [
        (RunRecord("train-pt-1", "training", "SUCCEEDED"), NothingToDo, "already succeeded"),
        (RunRecord("train-pt-1", "training", "RUNNING", execution_arn="arn:x"), Refused, "still running"),
        (RunRecord("train-pt-1", "training", "FAILED"), Refused, "without recording where"),
        (failed(resume_count=99), Refused, "already resumed 99 times"),
    ],
)
def test_runs_that_cannot_be_resumed_say_why(record, kind, says):
    outcome = plan_resume(record)

    assert isinstance(outcome, kind) and says in outcome.message


def test_only_training_runs_take_another_config():
    record = RunRecord("infer-pt-daily-2026-11-24", "inference", "FAILED", failed_state="StartLoad", resume_input="{}")

    outcome = plan_resume(record, ConfigRef(bucket="b", key="k"))

    assert isinstance(outcome, Refused) and "only training runs" in outcome.message
