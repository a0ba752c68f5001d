"""A run's log lines: every function's CloudWatch Logs group, filtered by the run id (FilterLogEvents)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class LogLine:
    at: datetime
    function: str
    level: str
    message: str


def run_log_lines(logs: Any, function_names: list[str], run_id: str, since_hours: float = 72) -> list[LogLine]:
    """Lines that mention `run_id`, from /aws/lambda/<function> for each function, oldest first."""
    start = int((time.time() - since_hours * 3600) * 1000)
    lines: list[LogLine] = []
    for function in function_names:
        try:
            # A quoted term matches the id as it is (ids have hyphens, which the pattern syntax would split on).
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{function}", filterPattern=f'"{run_id}"', startTime=start,
            )
            for page in pages:
                lines.extend(_line(function, event) for event in page["events"])
        except logs.exceptions.ResourceNotFoundException:
            continue  # a function that has not logged yet has no group
    return sorted(lines, key=lambda line: line.at)


def _line(function: str, event: dict[str, Any]) -> LogLine:
    at = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    try:
        record = json.loads(event["message"])
    except ValueError:
        return LogLine(at, function, "", event["message"].strip())
    return LogLine(at, function, str(record.get("level", "")), str(record.get("message", "")))


# Where SageMaker puts a job's output: one group per kind of job, a stream per instance named after the job.
JOB_LOG_GROUPS = {"TrainingJob": "/aws/sagemaker/TrainingJobs", "ProcessingJob": "/aws/sagemaker/ProcessingJobs",
                  "TransformJob": "/aws/sagemaker/TransformJobs"}


@dataclass(frozen=True)
class StepJob:
    step: str
    pipeline_execution: str
    kind: str  # TrainingJob, ProcessingJob or TransformJob
    job_name: str

    @property
    def log_group(self) -> str:
        return JOB_LOG_GROUPS[self.kind]


def step_jobs(sagemaker: Any, pipeline_executions: list[str]) -> list[StepJob]:
    """The jobs of each pipeline execution's steps (a step that ran no job, e.g. a cache hit, has none), in run order."""
    found = []
    for execution in pipeline_executions:
        pages = sagemaker.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=execution)
        steps = [step for page in pages for step in page["PipelineExecutionSteps"]]
        for step in sorted(steps, key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC)):
            for kind, job in step.get("Metadata", {}).items():
                if kind in JOB_LOG_GROUPS and "CacheHitResult" not in step:
                    found.append(StepJob(step["StepName"], execution, kind, job["Arn"].rsplit("/", 1)[-1]))
    return found


def job_log_lines(logs: Any, job: StepJob) -> list[str]:
    """Every line of the job's log streams (one per instance), oldest first."""
    lines: list[tuple[int, str]] = []
    streams = logs.get_paginator("describe_log_streams").paginate(logGroupName=job.log_group, logStreamNamePrefix=f"{job.job_name}/")
    for stream in (s for page in streams for s in page["logStreams"]):
        token = None
        while True:
            page = logs.get_log_events(logGroupName=job.log_group, logStreamName=stream["logStreamName"], startFromHead=True,
                                       **({"nextToken": token} if token else {}))
            lines.extend((event["timestamp"], event["message"]) for event in page["events"])
            if not page["events"] or page.get("nextForwardToken") == token:
                break
            token = page.get("nextForwardToken")
    return [message for _, message in sorted(lines, key=lambda line: line[0])]
