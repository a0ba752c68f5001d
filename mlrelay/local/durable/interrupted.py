"""Runs a stopped stack left half-done: after a restart each is marked interrupted where it stood, once.

A run's execution was in a state when the stack stopped: the state entered and not left. The run's ledger record
says so as a failed run's does (the state, and the input it had), with status INTERRUPTED, so `mlrelay runs resume`
enters there again; its execution ends aborted with the same reason; one alert says so, with the resume command.
A pipeline execution that was running ends failed at its running step, which the resumed run retries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.shared.runs import INTERRUPTED_ERROR

STOPPED_STEP = "Stopped: the embedded stack stopped while the job ran"


@dataclass(frozen=True)
class Interruption:
    run_id: str
    workflow: str
    model_name: str
    execution_arn: str
    state: str  # where the run stood: where a resume enters
    state_input: dict[str, Any] | None  # None: no state to resume at (the run starts again instead)


def where_it_stood(events: list[dict[str, Any]], resume_points: set[str]) -> tuple[str, dict[str, Any] | None]:
    """The outermost state entered and not left, and its input. A run stopped on its failure path resumes where it
    had failed (the failure path's input names that state)."""
    open_states: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if entered:
            open_states.append((entered["name"], json.loads(entered.get("input") or "{}")))
        elif exited:
            for index in range(len(open_states) - 1, -1, -1):
                if open_states[index][0] == exited["name"]:
                    del open_states[index]
                    break
    if not open_states:
        return "", None
    name, state_input = open_states[0]
    failed = state_input.get("failed_state")
    if isinstance(failed, dict) and failed.get("name") in resume_points:
        return str(failed["name"]), state_input
    return (name, state_input) if name in resume_points else (name, None)


def interruption_of(execution: Any, resume_points: set[str]) -> Interruption:
    state, state_input = where_it_stood(execution.to_history_output()["events"], resume_points)
    started = execution.input_data if isinstance(execution.input_data, dict) else {}
    return Interruption(
        run_id=str(started.get("run_id") or execution.name), workflow=str(started.get("workflow", "")),
        model_name=str(started.get("model_name", "")), execution_arn=execution.exec_arn, state=state, state_input=state_input,
    )


def cause_of(interruption: Interruption, stopped_at: datetime) -> str:
    where = f"at {interruption.state}" if interruption.state else "before its first step"
    how = (f"`mlrelay runs resume {interruption.run_id}` finishes it from there" if interruption.state_input is not None
           else "upload its config again to start it anew")
    return f"the embedded stack stopped {stopped_at:%Y-%m-%d %H:%M:%S} UTC while this run stood {where}; {how}"


def mark_in_ledger(dynamodb: Any, table: str, interruption: Interruption, cause: str) -> bool:
    """The ledger record, as MarkRunFailed writes a failed run's; False if the record says the run is not running."""
    values: dict[str, Any] = {
        ":interrupted": {"S": "INTERRUPTED"}, ":running": {"S": "RUNNING"}, ":arn": {"S": interruption.execution_arn},
        ":error": {"S": INTERRUPTED_ERROR}, ":cause": {"S": cause}, ":workflow": {"S": interruption.workflow},
    }
    update = "SET #status = :interrupted, workflow = :workflow, failed_error = :error, failed_cause = :cause"
    if interruption.state_input is not None:
        update += ", failed_state = :state, resume_input = :input, failed_execution_arn = :arn"
        values[":state"] = {"S": interruption.state}
        values[":input"] = {"S": json.dumps(interruption.state_input, separators=(",", ":"))}
    try:
        dynamodb.update_item(
            TableName=table, Key={"run_id": {"S": interruption.run_id}}, UpdateExpression=update,
            # INTERRUPTED too: a start a kill cut short between this write and the alert sends the alert again
            ConditionExpression="attribute_not_exists(#status) OR (#status IN (:running, :interrupted) AND execution_arn = :arn)",
            ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues=values,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def alert_message(interruption: Interruption, cause: str, at: datetime) -> dict[str, Any]:
    """A StepFailed message (chalicelib/shared/messages.py) for the failures queue, which the alerts consumer posts."""
    return {
        "kind": "step_failed", "workflow": interruption.workflow or "training", "run_id": interruption.run_id,
        "model_name": interruption.model_name, "state": interruption.state or "(not started)", "error": INTERRUPTED_ERROR,
        "cause": cause, "execution_arn": interruption.execution_arn, "occurred_at": at.isoformat(),
    }


def now() -> datetime:
    return datetime.now(UTC)
