"""Runs as people think of them: one run id, state by state, across its attempts.

A run id is the name of its first execution (chalicelib/shared/naming.py); each
resume adds an execution named `<run id>-r<n>`. A run is found by building
those ARNs on each workflow's state machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib.aws.stepfunctions import execution_arn_for
from chalicelib.shared.naming import MAX_RESUMES, resumed_execution_name
from chalicelib.shared.runs import INTERRUPTED_ERROR

_RESUMED = re.compile(r"^(?P<run>.+)-r(?P<attempt>\d{1,2})$")  # run ids end in a hex digest or a date, never so


class RunNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    workflow: str
    status: str
    started: datetime
    stopped: datetime | None
    execution_arn: str
    attempts: int = 1  # the first execution, then one per resume


@dataclass
class StepRecord:
    name: str
    state_type: str
    entered: datetime
    exited: datetime | None = None
    status: str = "running"  # running | succeeded | failed | caught
    attempts: int = 0  # task attempts, retries included
    error: str | None = None
    cause: str | None = None


@dataclass
class RunDetail:
    summary: RunSummary
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    steps: list[StepRecord] = field(default_factory=list)
    earlier: list[RunDetail] = field(default_factory=list)  # earlier attempts of the run, oldest first
    events: list[dict[str, Any]] = field(default_factory=list)  # this attempt's execution history, as read


def list_runs(sfn: Any, state_machines: dict[str, str]) -> list[RunSummary]:
    """Every run of every workflow, newest first; a resumed run is one run, shown by its latest attempt."""
    executions: list[RunSummary] = []
    for logical_id, arn in state_machines.items():
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=arn):
            executions.extend(_summary(e, _workflow_name(logical_id)) for e in page["executions"])
    runs: dict[tuple[str, str], list[RunSummary]] = {}
    for execution in executions:
        resumed = _RESUMED.match(execution.run_id)
        run_id = resumed.group("run") if resumed else execution.run_id
        runs.setdefault((execution.workflow, run_id), []).append(execution)
    latest = []
    for (_, run_id), attempts in runs.items():
        newest = max(attempts, key=lambda attempt: attempt.started)
        if newest.status == "ABORTED":  # the list leaves out why; an interrupted run says so
            newest = _summary(sfn.describe_execution(executionArn=newest.execution_arn), newest.workflow)
        latest.append(RunSummary(run_id, newest.workflow, newest.status, min(a.started for a in attempts),
                                 newest.stopped, newest.execution_arn, len(attempts)))
    return sorted(latest, key=lambda run: run.started, reverse=True)


def show_run(sfn: Any, state_machines: dict[str, str], run_id: str) -> RunDetail:
    """The run's latest attempt, with the earlier ones in `earlier`."""
    for logical_id, arn in state_machines.items():
        attempts = []
        for attempt in range(MAX_RESUMES + 1):
            name = run_id if attempt == 0 else resumed_execution_name(run_id, attempt)
            try:
                execution = sfn.describe_execution(executionArn=execution_arn_for(arn, name))
            except sfn.exceptions.ExecutionDoesNotExist:
                break
            attempts.append(_detail(sfn, execution, _workflow_name(logical_id)))
        if attempts:
            latest = attempts[-1]
            latest.earlier = attempts[:-1]
            latest.summary = replace(latest.summary, run_id=run_id, attempts=len(attempts))
            return latest
    raise _no_run(run_id)


def run_model(sfn: Any, state_machines: dict[str, str], run_id: str) -> str:
    """The model a run is of (its first execution's input names it), whose runs/<model>/ holds the run's outputs."""
    for arn in state_machines.values():
        try:
            execution = sfn.describe_execution(executionArn=execution_arn_for(arn, run_id))
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
        return str(json.loads(execution.get("input") or "{}")["model_name"])
    raise _no_run(run_id)


def _no_run(run_id: str) -> RunNotFoundError:
    return RunNotFoundError(f"no run named {run_id!r}; `mlrelay runs list` shows the run ids")


def _detail(sfn: Any, execution: dict[str, Any], workflow: str) -> RunDetail:
    summary = _summary(execution, workflow)
    events = history(sfn, summary.execution_arn)
    return RunDetail(
        summary=summary,
        input=json.loads(execution.get("input") or "{}"),
        output=json.loads(execution["output"]) if execution.get("output") else None,
        error=execution.get("error"),
        cause=execution.get("cause"),
        steps=steps_from_history(events),
        events=events,
    )


def steps_from_history(events: list[dict[str, Any]]) -> list[StepRecord]:
    """Fold Step Functions history events into one record per state entered."""
    steps: list[StepRecord] = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            state_type = kind.removesuffix("StateEntered")
            steps.append(StepRecord(details["name"], state_type, event["timestamp"]))
            if state_type == "Fail":
                steps[-1].status = "failed"
        elif kind.endswith("Scheduled") and steps:
            steps[-1].attempts += 1
        elif kind.endswith("Succeeded") and steps and kind != "ExecutionSucceeded":
            steps[-1].status, steps[-1].error, steps[-1].cause = "running", None, None  # a retry worked
        elif kind.endswith("Failed") and steps and kind != "ExecutionFailed":
            failure: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            steps[-1].status, steps[-1].error, steps[-1].cause = "failed", failure.get("error"), failure.get("cause")
        elif kind.endswith("StateExited") and steps:
            step = steps[-1]
            step.exited = event["timestamp"]
            if step.status == "failed" and step.state_type != "Fail":
                step.status = "caught"  # the failure was handled by a Catch
            elif step.status == "running":
                step.status = "succeeded"
    return steps


def definition_of(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """The state machine definition the execution ran (its own state machine's, as Step Functions names it)."""
    machine = sfn.describe_execution(executionArn=execution_arn)["stateMachineArn"]
    return dict(json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"]))


def resume_points(definition: dict[str, Any]) -> set[str]:
    """The steps a run of this state machine can be resumed at: those its first state, StartOrResume, routes to."""
    choices = definition["States"].get(definition["StartAt"], {}).get("Choices", [])
    return {choice["StringEquals"] for choice in choices if "StringEquals" in choice}


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def _summary(execution: dict[str, Any], workflow: str) -> RunSummary:
    interrupted = execution["status"] == "ABORTED" and execution.get("error") == INTERRUPTED_ERROR
    return RunSummary(
        run_id=execution["name"],
        workflow=workflow,
        status="INTERRUPTED" if interrupted else execution["status"],
        started=execution["startDate"],
        stopped=execution.get("stopDate"),
        execution_arn=execution["executionArn"],
    )


def _workflow_name(logical_id: str) -> str:
    return logical_id.removesuffix("StateMachine").lower()
