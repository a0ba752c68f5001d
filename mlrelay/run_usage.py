"""What one run used, read from where AWS records it (the pure estimate is mlrelay/costs.py).

Every attempt's execution history gives the state transitions, the Lambda steps and their durations, the
SageMaker pipeline executions it started and the Data API statements it ran (found in the steps' outputs);
ListPipelineExecutionSteps gives each pipeline step's time, and the execution's own definition and
parameters its instance type and count; DescribeStatement each statement's duration.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from mlrelay.costs import Usage
from mlrelay.runs import RunDetail

PIPELINE_EXECUTION = re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/[A-Za-z0-9-]+/execution/[a-z0-9]+")
STATEMENT_ID = re.compile(r'"(?:count_)?statement_id"\s*:\s*"([0-9a-f-]{36})"')
DEFAULT_MEMORY_MB = 512  # .chalice/config.json's lambda_memory_size, when the function cannot be read


def run_usage(detail: RunDetail, client: Any, step_function: str) -> Usage:
    events = [event for attempt in (*detail.earlier, detail) for event in attempt.events]  # read once, by show_run
    transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
    requests, seconds = _lambda_steps(events)
    memory_gb = _memory_mb(client("lambda"), step_function) / 1024
    text = "\n".join(_payloads(events))
    sagemaker = client("sagemaker")
    instance_seconds: dict[str, float] = defaultdict(float)
    for execution_arn in pipeline_executions(detail):
        for instance_type, used in _pipeline_instance_seconds(sagemaker, execution_arn).items():
            instance_seconds[instance_type] += used
    data = client("redshift-data")
    statements = tuple(_statement_seconds(data, sid) for sid in sorted(set(STATEMENT_ID.findall(text))))
    return Usage(transitions, requests, seconds * memory_gb, dict(instance_seconds), tuple(s for s in statements if s is not None))


def pipeline_executions(detail: RunDetail) -> list[str]:
    """The SageMaker pipeline executions a run started, over all its attempts, in the order they were named."""
    events = [event for attempt in (*detail.earlier, detail) for event in attempt.events]
    return list(dict.fromkeys(PIPELINE_EXECUTION.findall("\n".join(_payloads(events)))))


def _payloads(events: list[dict[str, Any]]) -> list[str]:
    """The inputs and outputs the states passed on (JSON text), where started pipelines and statements are named."""
    return [str(details.get(field)) for event in events for key, details in event.items()
            if key.endswith("EventDetails") and isinstance(details, dict) for field in ("input", "output") if details.get(field)]


def _lambda_steps(events: list[dict[str, Any]]) -> tuple[int, float]:
    requests, seconds, scheduled = 0, 0.0, None
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details and details.get("resourceType") == "lambda":
            requests, scheduled = requests + 1, event["timestamp"]
        elif scheduled is not None and event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            seconds, scheduled = seconds + (event["timestamp"] - scheduled).total_seconds(), None
    return requests, seconds


def _memory_mb(lambda_client: Any, function_name: str) -> int:
    try:
        return int(lambda_client.get_function_configuration(FunctionName=function_name).get("MemorySize") or DEFAULT_MEMORY_MB)
    except lambda_client.exceptions.ResourceNotFoundException:
        return DEFAULT_MEMORY_MB


def _pipeline_instance_seconds(sagemaker: Any, execution_arn: str) -> dict[str, float]:
    definition = json.loads(sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)["PipelineDefinition"])
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    parameters |= {p["Name"]: p["Value"] for p in sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn).get("PipelineParameters", [])}
    resources = {step["Name"]: _resources(step["Arguments"], parameters) for step in definition["Steps"]}
    used: dict[str, float] = defaultdict(float)
    for step in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)["PipelineExecutionSteps"]:
        found = resources.get(step["StepName"])
        if found is None or "CacheHitResult" in step or "EndTime" not in step:
            continue  # no instances (CreateModel), a cache hit (nothing ran), or still running
        instance_type, count = found
        used[instance_type] += (step["EndTime"] - step["StartTime"]).total_seconds() * count
    return dict(used)


def _resources(arguments: dict[str, Any], parameters: dict[str, Any]) -> tuple[str, int] | None:
    config = (arguments.get("ProcessingResources") or {}).get("ClusterConfig") or arguments.get("ResourceConfig") \
        or arguments.get("TransformResources")
    if not config:
        return None

    def value(node: Any) -> Any:
        return parameters.get(node["Get"].removeprefix("Parameters.")) if isinstance(node, dict) and "Get" in node else node
    return str(value(config["InstanceType"])), int(value(config.get("InstanceCount", 1)) or 1)


def _statement_seconds(data: Any, statement_id: str) -> float | None:
    try:
        return float(data.describe_statement(Id=statement_id).get("Duration", 0)) / 1e9  # nanoseconds
    except data.exceptions.ResourceNotFoundException:
        return None
