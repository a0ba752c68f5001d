"""What the run page shows, read through the CLI's own adapters: the run (mlrelay/runs.py), the definition its
execution ran, its pipeline steps and logs (mlrelay/run_logs.py), and its cost (mlrelay/operator_actions.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlrelay.console.graph import StateView
from mlrelay.console.stage import Stage
from mlrelay.costs import Estimate
from mlrelay.runs import RunDetail, StepRecord, definition_of, show_run

MAX_LOG_LINES = 200  # the failed step's log, newest last: enough to see the traceback
ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED", "INTERRUPTED")


@dataclass(frozen=True)
class PipelineStep:
    name: str
    status: str
    started: datetime | None
    ended: datetime | None
    cached: bool
    failure: str


@dataclass
class RunPage:
    detail: RunDetail
    definition: dict[str, Any]
    views: dict[str, StateView]
    failed: StepRecord | None
    pipeline_steps: list[PipelineStep] = field(default_factory=list)
    log_title: str = ""
    log: list[str] = field(default_factory=list)
    cost: Estimate | None = None
    cost_problem: str = ""

    @property
    def resumable(self) -> bool:
        return self.detail.summary.status in ENDED_BADLY


def run_page(stage: Stage, run_id: str) -> RunPage:
    """Raises RunNotFoundError for an unknown run id."""
    from mlrelay.run_usage import pipeline_executions

    sfn = stage.client("stepfunctions")
    detail = show_run(sfn, stage.info.state_machines, run_id)
    definition = definition_of(sfn, detail.summary.execution_arn)
    ended_badly = detail.summary.status in ENDED_BADLY
    # a Catch is also ordinary flow (a pipeline that ended before the wait): only a run that ended badly has a failed step
    failed = next((step for step in reversed(detail.steps)
                   if ended_badly and step.status in ("failed", "caught") and step.state_type != "Fail"), None)
    page = RunPage(detail, drawn_definition(definition, detail.steps), state_views(detail), failed)
    executions = pipeline_executions(detail)
    page.pipeline_steps = _pipeline_steps(stage.client("sagemaker"), executions)
    if detail.summary.status == "RUNNING":
        return page  # the page reloads every few seconds: the log and the cost wait for the end
    if ended_badly:
        page.log_title, page.log = _failure_log(stage, detail, executions, page.pipeline_steps)
    from botocore.exceptions import BotoCoreError, ClientError

    from mlrelay.operator_actions import run_cost

    try:
        page.cost = run_cost(stage.info, stage.client, detail)
    except (BotoCoreError, ClientError, KeyError, ValueError) as err:  # a nicety: the page still shows the run
        page.cost_problem = f"no estimate: {err}"
    return page


def drawn_definition(definition: dict[str, Any], steps: list[StepRecord]) -> dict[str, Any]:
    """The definition with the first state's resume branches left out but the one this attempt took: each would be a
    line from the top to its step across the whole drawing (StartOrResume routes to every resume point)."""
    start = definition["StartAt"]
    first = definition["States"].get(start, {})
    if first.get("Type") != "Choice":
        return definition
    taken = steps[1].name if len(steps) > 1 and steps[0].name == start else None
    kept = {**first, "Choices": [choice for choice in first.get("Choices", []) if choice.get("Next") == taken]}
    return {**definition, "States": {**definition["States"], start: kept}}


def state_views(detail: RunDetail) -> dict[str, StateView]:
    """Each state's latest outcome in this attempt; attempts and time summed over its visits (a polling loop)."""
    views: dict[str, StateView] = {}
    for step in detail.steps:
        earlier = views.get(step.name)
        seconds = (step.exited - step.entered).total_seconds() if step.exited else None
        if earlier is not None and earlier.seconds is not None and seconds is not None:
            seconds += earlier.seconds
        attempts = step.attempts + (earlier.attempts if earlier else 0)
        detail_text = f"{step.error}: {step.cause or ''}"[:300] if step.error else ""
        views[step.name] = StateView(status=step.status, attempts=attempts, seconds=seconds, detail=detail_text)
    return views


def _pipeline_steps(sagemaker: Any, executions: list[str]) -> list[PipelineStep]:
    steps: list[PipelineStep] = []
    for execution in executions:
        pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=execution)
        found = [step for page in pages for step in page["PipelineExecutionSteps"]]
        for step in sorted(found, key=lambda s: (s.get("StartTime") is None, s.get("StartTime") or 0)):
            steps.append(PipelineStep(step["StepName"], step.get("StepStatus", ""), step.get("StartTime"), step.get("EndTime"),
                                      "CacheHitResult" in step, step.get("FailureReason", "")))
    return steps


def _failure_log(stage: Stage, detail: RunDetail, executions: list[str], steps: list[PipelineStep]) -> tuple[str, list[str]]:
    """The failed pipeline step's job output when a job failed (the user's code speaks there), else the functions'
    log lines that mention the run."""
    from mlrelay.run_logs import job_log_lines, run_log_lines, step_jobs

    failed_names = {step.name for step in steps if step.status == "Failed"}
    if failed_names:
        jobs = [job for job in step_jobs(stage.client("sagemaker"), executions) if job.step in failed_names]
        if jobs:
            job = jobs[-1]
            return f"{job.step}: {job.kind} {job.job_name} ({job.log_group})", job_log_lines(stage.client("logs"), job)[-MAX_LOG_LINES:]
    lines = run_log_lines(stage.client("logs"), list(stage.info.functions.values()), detail.summary.run_id)
    text = [f"{line.at:%H:%M:%S} {line.function} {line.level} {line.message}" for line in lines]
    return "the functions' log lines that mention the run", text[-MAX_LOG_LINES:]
