"""What resuming a run means, decided from its ledger record alone (pure).

A failed run's ledger record holds the step that failed and the input that
step had (the state machine's MarkRunFailed writes both). Resuming starts a
new execution of the same workflow for the same run id with that input and
`resume.from` set, which the state machine's first state routes straight to
the failed step: steps before it are not entered again.

Step Functions' RedriveExecution is not used: every Task's Catch leads to the
failure path, so the only state a redrive would re-run is the final Fail
state. (moto lacks RedriveExecution too.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.shared.messages import ConfigRef
from chalicelib.shared.naming import MAX_RESUMES, resumed_execution_name
from chalicelib.shared.runs import RunRecord

# The workflows' state names, as `mlrelay statemachines build` reads them from the definitions it writes.
_STATES = json.loads(Path(__file__).with_name("states.json").read_text())
# Where a run that failed at a pipeline wait re-enters: the pipeline is retried from its failed step first.
PIPELINE_WAITS = frozenset(_STATES["pipeline_waits"])
# The step that reads the config; a run resumed with a changed config goes back to it.
CONFIG_STEP: dict[str, str] = _STATES["config_step"]
# Its Lambda step: the ledger hands back its recorded output for the same input, unless told to forget it
# (the input names the config, not what the table holds now).
CONFIG_LAMBDA_STEP: dict[str, str] = _STATES["config_lambda_step"]
BEFORE_CONFIG_STEP = frozenset(_STATES["before_config_step"])
# INTERRUPTED: the embedded stack stopped while the run ran (mlrelay/local/durable/interrupted.py)
RESUMABLE = ("FAILED", "INTERRUPTED")
# What the failure path and the discarded answers wrote (mlrelay/asl/builder.py): the resumed step must not see it.
FAILURE_PATH_KEYS = ("failure", "failed_state", "report_failure", "ledger_failure", "resume", "last_write")


# What the training pipeline read, as LoadTrainingConfig recorded it: (what, URI parameter, identity parameter).
TRAINING_INPUTS = (("table", "InputDataUri", "InputDataVersion"), ("code bundle", "CodeUri", "CodeVersion"))
# The states whose resume reuses pipeline steps that read them; after the pipeline ended, no step reads them again
# (the later steps read the pipeline's outputs, and their recorded outputs are of those).
READ_BY_THE_PIPELINE = frozenset(_STATES["read_by_the_pipeline"])


@dataclass(frozen=True)
class RecordedInput:
    what: str  # "table" or "code bundle"
    uri: str
    identity: str  # S3Objects.identity when the run read it


@dataclass(frozen=True)
class NothingToDo:
    message: str


@dataclass(frozen=True)
class Refused:
    message: str


@dataclass(frozen=True)
class Resume:
    run_id: str
    workflow: str
    from_state: str
    attempt: int
    execution_name: str
    execution_input: dict[str, Any]
    retry_pipeline_arn: str | None  # the failed SageMaker pipeline execution to retry first
    config_changed: bool
    inputs_changed: tuple[str, ...] = ()  # "the table s3://…": what changed since the run read it
    forget_steps: tuple[str, ...] = ()  # Lambda steps that must work again, not return their recorded output


def recorded_inputs(record: RunRecord) -> list[RecordedInput]:
    """The inputs a resume would reuse pipeline steps on: the training pipeline's table and code bundle, as the run
    read them. Empty when the run stopped before its pipeline (it reads them anyway) or after it, or when the run
    recorded no identities (it ran before they were kept)."""
    if record.workflow not in CONFIG_STEP or record.failed_state not in READ_BY_THE_PIPELINE:
        return []
    try:
        state = json.loads(record.resume_input)
        settings = state["training"]["settings"]
        parameters = settings["pipeline_parameters"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return []
    if (state.get("config") or {}).get("reproduces"):
        return []  # a reproduction reads its recorded copies, whatever the sources hold now
    values = {p["Name"]: p["Value"] for p in parameters}
    # the pipeline reads pinned copies (chalicelib/shared/pinning.py): what may have changed is their source
    sources = {"table": "InputDataUri", "code bundle": "CodeUri"}
    for name, what in (("table", "table"), ("code", "code bundle")):
        if source := (settings.get("inputs") or {}).get(name, {}).get("source"):
            values[sources[what]] = source
    return [
        RecordedInput(what, values[uri], values[identity]) for what, uri, identity in TRAINING_INPUTS
        if values.get(identity, "unknown") != "unknown" and uri in values
    ]


def plan_resume(
    record: RunRecord, new_config: ConfigRef | None = None, changed: tuple[RecordedInput, ...] = (),
) -> NothingToDo | Refused | Resume:
    """`changed`: the recorded inputs that hold something else now; the run goes back to its config, so that
    every step reading them runs again (as SageMaker's step caching keys on a step's arguments)."""
    run = record.run_id
    if record.status == "SUCCEEDED":
        return NothingToDo(f"run {run} already succeeded; there is nothing to resume")
    if record.status == "RUNNING":
        return Refused(f"run {run} is still running ({record.execution_arn}); resume it only after it has failed")
    if record.status not in RESUMABLE:
        return Refused(f"run {run} is {record.status}; only a FAILED or INTERRUPTED run can be resumed")
    if not record.failed_state or not record.resume_input:
        return Refused(
            f"run {run} failed without recording where, so it cannot be resumed; start it again instead "
            "(upload its config again)"
        )
    if record.resume_count >= MAX_RESUMES:
        return Refused(f"run {run} was already resumed {record.resume_count} times; start it again instead")
    if new_config is not None and record.workflow not in CONFIG_STEP:
        return Refused(f"run {run} is a {record.workflow} run; only training runs can be resumed with another config")
    try:
        state = json.loads(record.resume_input)
    except json.JSONDecodeError as err:
        raise ValueError(f"run {run}'s recorded resume input is not JSON: {err}") from err
    execution_input = {key: value for key, value in state.items() if key not in FAILURE_PATH_KEYS}
    if record.workflow == "inference":  # a run recorded before a request could name its table loads into the stage's
        execution_input.setdefault("predictions_table", None)
    from_state = record.failed_state
    if new_config is not None:
        execution_input["config"] = new_config.model_dump(mode="json")
    if (new_config is not None or changed) and from_state not in BEFORE_CONFIG_STEP:
        from_state = CONFIG_STEP[record.workflow]  # everything after the config is redone with the new config or inputs
    attempt = record.resume_count + 1
    execution_input["resume"] = {
        "from": from_state,
        "attempt": attempt,
        "previous_execution": record.failed_execution_arn,
        "config_changed": new_config is not None,
        "inputs_changed": [f"the {c.what} {c.uri}" for c in changed],
    }
    retry = state.get("pipeline", {}).get("execution_arn") if from_state in PIPELINE_WAITS else None
    return Resume(
        run_id=run,
        workflow=record.workflow,
        from_state=from_state,
        attempt=attempt,
        execution_name=resumed_execution_name(run, attempt),
        execution_input=execution_input,
        retry_pipeline_arn=retry,
        config_changed=new_config is not None,
        inputs_changed=tuple(f"the {c.what} {c.uri}" for c in changed),
        forget_steps=(CONFIG_LAMBDA_STEP[record.workflow],) if changed else (),
    )
