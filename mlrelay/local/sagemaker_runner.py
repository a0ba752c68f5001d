"""Runs SageMaker pipeline executions step by step, locally (moto runs none).

When the emulator starts a pipeline execution, the runner walks its
definition in dependency order, runs each step as local processes
(mlrelay/local/sagemaker_jobs.py), records step statuses where
ListPipelineExecutionSteps reads them, honours step caching, and emits the
EventBridge status-change events SageMaker emits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from mlrelay.local.emulated import sagemaker as executions  # the runner's records on moto's execution objects
from mlrelay.local.faults import FaultPlan
from mlrelay.local.pipeline_expressions import ExpressionError, evaluate, parameter_values, step_references
from mlrelay.local.sagemaker_jobs import (
    JobContext,
    JobFailedError,
    JobStorage,
    Limits,
    run_processing,
    run_training,
    run_transform,
)
from mlrelay.run_logs import JOB_LOG_GROUPS

logger = logging.getLogger(__name__)

STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
STEP_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Step Status Change"
EventEmitter = Callable[[str, dict[str, Any], list[str]], None]  # detail-type, detail, resources


@dataclass
class StepRecord:
    """One step of one execution, in ListPipelineExecutionSteps' shape."""

    name: str
    step_type: str
    started: datetime
    ended: datetime | None = None
    status: str = "Executing"
    failure_reason: str | None = None
    cache_source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_response(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "StepName": self.name, "StepStatus": self.status, "StartTime": self.started, "AttemptCount": 1,
            "Metadata": self.metadata,
        }
        if self.ended:
            entry["EndTime"] = self.ended
        if self.failure_reason:
            entry["FailureReason"] = self.failure_reason
        if self.cache_source:
            entry["CacheHitResult"] = {"SourcePipelineExecutionArn": self.cache_source}
        return entry


@dataclass(frozen=True)
class StepRun:
    """A step whose work really ran (not a cache hit): what tests and benchmarks count."""

    execution_arn: str
    description: str  # the run id, as the training workflow sets it
    step_name: str


@dataclass(frozen=True)
class JobIdentity:
    """How a job acts as its execution role: the API calls the runner makes for it, the credentials its code gets,
    and the check of reads the runner serves from the emulator's store."""

    acting_as: Callable[[str], AbstractContextManager[None]] = lambda role_arn: nullcontext()
    environment: Callable[[str], dict[str, str]] = lambda role_arn: {}
    may_read: Callable[[str, str], None] = lambda bucket, key: None
    # (step type, image, job name, role): raises if the pipeline's role may not start the job as SageMaker would
    may_start: Callable[[str, str, str, str], object] = lambda kind, image_uri, job_name, role_arn: None
    # (role, action, resource): raises as AWS would refuse what SageMaker does with that role (an endpoint's alarms)
    may_act: Callable[[str, str, str], object] = lambda role_arn, action, resource: None


class LocalPipelineRunner:
    def __init__(
        self, s3_client: Callable[[], Any], work_dir: Path, log_dir: Path, emit: EventEmitter, faults: FaultPlan,
        read_object: Callable[[str, str], bytes] | None = None, identity: JobIdentity = JobIdentity(), time_scale: float = 1.0,
        ship_log: Callable[[str, str, list[str]], None] = lambda group, stream, lines: None,
    ):
        self.identity = identity
        self._ship_log = ship_log  # (group, stream, lines): a job's output into CloudWatch Logs, where SageMaker puts it
        self._time_scale = time_scale  # jobs' maximum runtimes, on the stack's clock
        self._s3_client = s3_client
        self._read_object = read_object  # inputs straight from the emulator's store (mlrelay/local/emulated/s3.py)
        self._faults = faults
        self._work_dir = work_dir
        self._log_dir = log_dir
        self._emit = emit
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sagemaker-pipeline")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, dict[str, Any]]] = {}
        self.step_runs: list[StepRun] = []

    def submit(self, pipeline: Any, execution: Any) -> None:
        executions.begin(execution)
        self._schedule(pipeline, execution)

    def retry(self, pipeline: Any, execution: Any) -> None:
        """RetryPipelineExecution (the emulated API checks the execution failed): the failed step and those after it
        run again; succeeded steps keep their outputs."""
        executions.set_status(execution, "Executing", None)
        self._schedule(pipeline, execution)

    def run_now(self, pipeline: Any, execution: Any) -> None:
        """Run an execution to its end before returning (a pipeline faster than its workflow)."""
        executions.begin(execution)
        self._run_guarded(pipeline, execution)

    def step_runs_for(self, pipeline_execution_description: str) -> list[str]:
        """Steps that really ran, in order, for executions described by a run id."""
        with self._lock:
            return [run.step_name for run in self.step_runs if run.description == pipeline_execution_description]

    def wait_idle(self, timeout_seconds: float = 300) -> None:
        with self._lock:
            pending = list(self._pending)
        done, not_done = wait(pending, timeout=timeout_seconds)
        if not_done:
            raise TimeoutError(f"{len(not_done)} pipeline executions still running")

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def shutdown(self, wait: bool = True) -> None:
        """`wait=False`: what still runs is left to a process about to exit (EmbeddedStack.stop with stop_jobs)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _schedule(self, pipeline: Any, execution: Any) -> None:
        future = self._pool.submit(self._run_guarded, pipeline, execution)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(lambda done: self._discard(done))

    def _discard(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run_guarded(self, pipeline: Any, execution: Any) -> None:
        try:
            self._run(pipeline, execution)
        except Exception as err:
            logger.exception("local pipeline runner failed")
            self._finish(pipeline, execution, "Failed", f"InternalError: {err}")

    def _run(self, pipeline: Any, execution: Any) -> None:
        definition = json.loads(execution.pipeline_definition_for_execution)
        execution_id = execution.arn.rsplit("/", 1)[-1]
        context = {
            "PipelineExecutionId": execution_id,
            "PipelineExecutionArn": execution.arn,
            "PipelineName": pipeline.pipeline_name,
        }
        self._status_event(pipeline, execution, "Executing", None)
        steps = {step["Name"]: step for step in definition["Steps"]}
        order = TopologicalSorter(
            {name: step_references(step.get("Arguments")) | set(step.get("DependsOn", [])) for name, step in steps.items()}
        ).static_order()
        properties, models = executions.step_outputs(execution)
        try:
            parameters = parameter_values(definition.get("Parameters", []), execution.pipeline_parameters)
        except ExpressionError as err:
            self._finish(pipeline, execution, "Failed", f"ValidationError: {err}")
            return
        for name in order:
            if name in properties:  # succeeded in an earlier attempt of this execution
                continue
            step = steps[name]
            record = StepRecord(name, step["Type"], _now())
            executions.step_records(execution).append(record)
            self._step_event(pipeline, execution, record)
            try:
                arguments = evaluate(step.get("Arguments", {}), parameters, context, properties)
                properties[name] = self._cached_or_run(pipeline, execution, step, arguments, record, models)
            except (JobFailedError, ExpressionError, KeyError) as err:
                record.status, record.failure_reason, record.ended = "Failed", str(err), _now()
                self._step_event(pipeline, execution, record)
                self._finish(pipeline, execution, "Failed", f"Step {name} failed: {err}")
                return
            record.status, record.ended = "Succeeded", _now()
            self._step_event(pipeline, execution, record)
        self._finish(pipeline, execution, "Succeeded", None)

    def _cached_or_run(
        self, pipeline: Any, execution: Any, step: dict[str, Any], arguments: dict[str, Any],
        record: StepRecord, models: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        caching = step.get("CacheConfig", {}).get("Enabled", False)
        key = _cache_key(pipeline.pipeline_name, step["Name"], arguments)
        if caching and key in self._cache:
            record.cache_source, properties = self._cache[key]
        else:
            with self._lock:  # counted when the work starts, whether or not it succeeds
                self.step_runs.append(StepRun(execution.arn, execution.pipeline_execution_description, step["Name"]))
            fault = self._faults.pipeline_step_fault(execution.pipeline_execution_description, step["Name"])
            if fault is not None:
                raise JobFailedError(fault.error)
            properties = self._execute(execution, step, arguments, record, models)
            if caching:
                self._cache[key] = (execution.arn, properties)
        if step["Type"] == "Model":
            models[properties["ModelName"]] = properties
        return properties

    def _execute(
        self, execution: Any, step: dict[str, Any], arguments: dict[str, Any], record: StepRecord,
        models: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        # a transform job runs as its model's execution role
        model = models.get(arguments.get("ModelName", ""), {})
        role_arn = arguments.get("RoleArn") or arguments.get("ExecutionRoleArn") or model.get("ExecutionRoleArn", "")
        if not role_arn:
            raise JobFailedError(f"ValidationError: step {step['Name']} names no execution role (RoleArn)")
        with self.identity.acting_as(role_arn):
            return self._execute_as_role(execution, step, arguments, record, models, role_arn)

    def _execute_as_role(
        self, execution: Any, step: dict[str, Any], arguments: dict[str, Any], record: StepRecord,
        models: dict[str, dict[str, Any]], role_arn: str,
    ) -> dict[str, Any]:
        execution_id = execution.arn.rsplit("/", 1)[-1]
        name, kind = step["Name"], step["Type"]
        job_name = f"pipelines-{execution_id}-{name}-{uuid.uuid4().hex[:8]}"[:63]
        job = JobContext(
            s3=JobStorage(self._s3_client(), self._read_object, self.identity.may_read),
            directory=self._work_dir / execution_id / name,
            log_path=self._log_dir / execution_id / f"{name}.log",
            aws_environment=self.identity.environment(role_arn),
            limits=Limits.of(arguments, kind, self._time_scale),
        )
        # the step's log folder, made here: when an earlier step came from the cache, none of this execution's did it
        job.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.identity.may_start(kind, _image_of(arguments, models), job_name, role_arn)
        written = job.log_path.stat().st_size if job.log_path.exists() else 0
        try:
            return self._run_job(execution, kind, arguments, record, models, job, job_name)
        finally:
            if f"{kind}Job" in JOB_LOG_GROUPS and job.log_path.exists():
                self._ship(JOB_LOG_GROUPS[f"{kind}Job"], f"{job_name}/algo-1-{int(time.time())}", job.log_path, written)

    def _ship(self, group: str, stream: str, log_path: Path, written: int) -> None:
        """This job's lines (a retried step appends to the same file) into CloudWatch Logs; a failure to ship is
        logged, never taken for the job's own outcome."""
        try:
            with log_path.open(errors="replace") as log:
                log.seek(written)
                self._ship_log(group, stream, log.read().splitlines())
        except Exception:
            logger.exception("could not ship the log of %s to %s", stream, group)

    def _run_job(
        self, execution: Any, kind: str, arguments: dict[str, Any], record: StepRecord, models: dict[str, dict[str, Any]],
        job: JobContext, job_name: str,
    ) -> dict[str, Any]:
        arn_prefix = execution.arn.split(":pipeline/")[0]
        if kind == "Processing":
            record.metadata = {"ProcessingJob": {"Arn": f"{arn_prefix}:processing-job/{job_name}"}}
            run_processing(job, arguments)
            return {**arguments, "ProcessingJobName": job_name}
        if kind == "Training":
            record.metadata = {"TrainingJob": {"Arn": f"{arn_prefix}:training-job/{job_name}"}}
            model_uri = run_training(job, arguments, job_name)
            return {**arguments, "TrainingJobName": job_name, "ModelArtifacts": {"S3ModelArtifacts": model_uri}}
        if kind == "Model":
            record.metadata = {"Model": {"Arn": f"{arn_prefix}:model/{job_name}"}}
            return {**arguments, "ModelName": job_name}
        if kind == "Transform":
            record.metadata = {"TransformJob": {"Arn": f"{arn_prefix}:transform-job/{job_name}"}}
            run_transform(job, arguments, models[arguments["ModelName"]])
            return {**arguments, "TransformJobName": job_name}
        raise JobFailedError(f"the local runner does not run {kind} steps")

    def _finish(self, pipeline: Any, execution: Any, status: str, reason: str | None) -> None:
        executions.set_status(execution, status, reason, _now())
        self._status_event(pipeline, execution, status, "Executing")

    def _status_event(self, pipeline: Any, execution: Any, status: str, previous: str | None) -> None:
        detail = {
            "pipelineArn": pipeline.arn,
            "pipelineExecutionArn": execution.arn,
            "pipelineExecutionDisplayName": execution.pipeline_execution_display_name,
            "pipelineExecutionDescription": execution.pipeline_execution_description,
            "currentPipelineExecutionStatus": status,
            "previousPipelineExecutionStatus": previous,
            "executionStartTime": _iso(execution.start_time),
            "executionEndTime": _iso(_now()) if status in {"Succeeded", "Failed", "Stopped"} else None,
        }
        if not self._faults.loses_status_events(execution.pipeline_execution_description):
            self._emit(STATUS_CHANGE, detail, [pipeline.arn, execution.arn])

    def _step_event(self, pipeline: Any, execution: Any, record: StepRecord) -> None:
        detail = {
            "pipelineArn": pipeline.arn,
            "pipelineExecutionArn": execution.arn,
            "stepName": record.name,
            "currentStepStatus": record.status,
            "failureReason": record.failure_reason,
            "metadata": record.metadata,
        }
        if not self._faults.loses_status_events(execution.pipeline_execution_description):
            self._emit(STEP_STATUS_CHANGE, detail, [pipeline.arn, execution.arn])


def list_steps(execution: Any) -> list[dict[str, Any]]:
    """Newest first, as ListPipelineExecutionSteps answers by default."""
    return [record.as_response() for record in reversed(executions.step_records(execution))]


def _cache_key(pipeline_name: str, step_name: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps([pipeline_name, step_name, arguments], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_of(arguments: dict[str, Any], models: dict[str, dict[str, Any]]) -> str:
    """The image a job pulls: its own, or (a transform job) its model's."""
    model = models.get(arguments.get("ModelName", ""), {})
    return str(
        arguments.get("AlgorithmSpecification", {}).get("TrainingImage")
        or arguments.get("AppSpecification", {}).get("ImageUri")
        or arguments.get("PrimaryContainer", {}).get("Image")
        or model.get("PrimaryContainer", {}).get("Image")
        or ""
    )
