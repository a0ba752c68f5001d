"""Runs as people think of them: one execution, state by state.

A run id is the execution name (chalicelib/naming.py), so a run is found
by building its ARN on each workflow's state machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.aws.stepfunctions import execution_arn_for


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


def list_runs(sfn: Any, state_machines: dict[str, str]) -> list[RunSummary]:
    """Every execution of every workflow, newest first."""
    runs = []
    for logical_id, arn in state_machines.items():
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=arn):
            runs.extend(_summary(e, _workflow_name(logical_id)) for e in page["executions"])
    return sorted(runs, key=lambda run: run.started, reverse=True)


def show_run(sfn: Any, state_machines: dict[str, str], run_id: str) -> RunDetail:
    for logical_id, arn in state_machines.items():
        try:
            execution = sfn.describe_execution(executionArn=execution_arn_for(arn, run_id))
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
        summary = _summary(execution, _workflow_name(logical_id))
        return RunDetail(
            summary=summary,
            input=json.loads(execution.get("input") or "{}"),
            output=json.loads(execution["output"]) if execution.get("output") else None,
            error=execution.get("error"),
            cause=execution.get("cause"),
            steps=steps_from_history(_history(sfn, summary.execution_arn)),
        )
    raise RunNotFoundError(f"no run named {run_id!r}; `mlrelay runs list` shows the run ids")


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
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            steps[-1].status, steps[-1].error, steps[-1].cause = "failed", details.get("error"), details.get("cause")
        elif kind.endswith("StateExited") and steps:
            step = steps[-1]
            step.exited = event["timestamp"]
            if step.status == "failed" and step.state_type != "Fail":
                step.status = "caught"  # the failure was handled by a Catch
            elif step.status == "running":
                step.status = "succeeded"
    return steps


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def _summary(execution: dict[str, Any], workflow: str) -> RunSummary:
    return RunSummary(
        run_id=execution["name"],
        workflow=workflow,
        status=execution["status"],
        started=execution["startDate"],
        stopped=execution.get("stopDate"),
        execution_arn=execution["executionArn"],
    )


def _workflow_name(logical_id: str) -> str:
    return logical_id.removesuffix("StateMachine").lower()
