"""Each Lambda step's answer, as its result model says: the state machines read exactly its fields, and an answer
without one of them fails at the step, naming it."""

import pydantic
import pytest

from chalicelib.inference.results import RESULTS as INFERENCE_RESULTS
from chalicelib.inference.results import LoadStarted
from chalicelib.training.results import RESULTS as TRAINING_RESULTS
from mlrelay.asl.build import WORKFLOWS

RESULTS = {**TRAINING_RESULTS, **INFERENCE_RESULTS}
WHOLE = {"load_config": {"settings.$": "$.Payload"}}  # the settings are carried whole


def lambda_states():
    for workflow, build in WORKFLOWS.items():
        pending = [build()["States"]]
        while pending:
            for name, state in pending.pop().items():
                pending += [state[key]["States"] for key in ("ItemProcessor", "Iterator") if key in state]
                step = state.get("Parameters", {}).get("Payload", {}).get("step") if state.get("Type") == "Task" else None
                if step:
                    yield workflow, name, step, state


def test_every_lambda_state_selects_its_steps_result_fields():
    seen = set()
    for workflow, name, step, state in lambda_states():
        seen.add(step)
        expected = WHOLE.get(step) or {f"{field}.$": f"$.Payload.{field}" for field in RESULTS[step].model_fields}

        assert state["ResultSelector"] == expected, f"{workflow} {name}"

    assert seen == set(RESULTS)  # every result model is read by a state, and every step has one


def test_an_answer_without_a_field_the_workflow_reads_fails_naming_it_and_extra_fields_are_kept():
    with pytest.raises(pydantic.ValidationError, match="expected_rows"):
        LoadStarted.checked({"statement_id": "s-1"})

    assert LoadStarted.checked({"statement_id": "s-1", "expected_rows": 40, "note": "kept"}) == {
        "statement_id": "s-1", "expected_rows": 40, "note": "kept"}


def test_every_lambda_state_names_the_runs_model_which_the_ledger_keeps_a_large_answer_under():
    for workflow, name, _, state in lambda_states():
        assert state["Parameters"]["Payload"].get("model_name.$") == "$.model_name", f"{workflow} {name}"
