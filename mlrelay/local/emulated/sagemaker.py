"""SageMaker pipelines: executions go to the local runner, which moto lacks.

moto's executions run no steps and report Succeeded at once; a missing pipeline or
execution is a ValidationException (SageMaker: ResourceNotFound); StartPipelineExecution
ignores ClientRequestToken; DescribePipelineExecution never reports a FailureReason;
ListPipelineExecutionSteps, RetryPipelineExecution, DeleteModelPackage and
DeleteModelPackageGroup are missing (`mlrelay doctor --canary` deletes what it made); UpdateModelPackage
sends no "SageMaker Model Package State Change" event and forgets the customer metadata
it was not asked to change. Each new execution is handed to `start`, the token
is honoured, the reads are answered from what the runner recorded, and a retry
hands the failed execution back to `retry` (once per token), which reruns its
failed step and those after it. A package's status change is handed to
`status_changed`, which sends the event; unmentioned metadata is kept.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker.exceptions import ConflictException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_execution_from_arn as _moto_execution_lookup
from moto.sagemaker.utils import get_pipeline_from_name as _moto_pipeline_lookup

# (moto's pipeline, moto's execution) -> None
PipelineAction = Callable[[Any, Any], None]
# (moto's execution) -> the ListPipelineExecutionSteps entries
StepLister = Callable[[Any], list[dict[str, Any]]]
# (the event's detail, the package ARN) -> None
PackageStatusListener = Callable[[dict[str, Any], str], None]
RETRY_TOKENS = "mlrelay_retry_tokens"  # on moto's execution object
_lock = threading.Lock()  # a token check and its start must not interleave


@contextmanager
def patched(
    start: PipelineAction, retry: PipelineAction, list_steps: StepLister, status_changed: PackageStatusListener,
) -> Iterator[None]:
    original_start = SageMakerModelBackend.start_pipeline_execution
    original_describe = SageMakerModelBackend.describe_pipeline_execution
    original_update_package = SageMakerModelBackend.update_model_package

    def start_pipeline_execution(
        self: SageMakerModelBackend, pipeline_name: str, pipeline_execution_display_name: str,
        pipeline_parameters: list[dict[str, Any]], pipeline_execution_description: str,
        parallelism_configuration: dict[str, int], client_request_token: str,
    ) -> dict[str, str]:
        with _lock:
            pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
            if client_request_token:
                for execution in pipeline.pipeline_executions.values():
                    if execution.client_request_token == client_request_token:
                        return {"PipelineExecutionArn": execution.arn}
            response = original_start(
                self, pipeline_name, pipeline_execution_display_name, pipeline_parameters,
                pipeline_execution_description, parallelism_configuration, client_request_token,
            )
        start(pipeline, pipeline.pipeline_executions[response["PipelineExecutionArn"]])
        return response

    def describe_pipeline_execution(self: SageMakerModelBackend, pipeline_execution_arn: str) -> dict[str, Any]:
        response = original_describe(self, pipeline_execution_arn)
        execution = get_pipeline_execution_from_arn(self.pipelines, pipeline_execution_arn)
        response["FailureReason"] = execution.pipeline_execution_failure_reason or ""
        return response

    def update_model_package(
        self: SageMakerModelBackend, model_package_arn: str, model_approval_status: str | None,
        approval_description: str | None, customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str], additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = self.model_packages.get(name)
        before = package.model_approval_status if package else None
        if customer_metadata_properties is None and package is not None:
            customer_metadata_properties = package.customer_metadata_properties
        arn = original_update_package(
            self, model_package_arn, model_approval_status, approval_description, customer_metadata_properties,
            customer_metadata_properties_to_remove, additional_inference_specifications_to_add,
        )
        package = self.model_packages[name]
        if package.model_approval_status != before:
            status_changed({
                "ModelPackageGroupName": package.model_package_group_name, "ModelPackageVersion": package.model_package_version,
                "ModelPackageArn": package.arn, "ModelApprovalStatus": package.model_approval_status,
                "ApprovalDescription": package.approval_description or "",
            }, package.arn)
        return arn

    def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
        execution = get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, self._get_param("PipelineExecutionArn"))
        return ActionResult({"PipelineExecutionSteps": list_steps(execution)})

    def retry_pipeline_execution(self: SageMakerResponse) -> ActionResult:
        arn, token = self._get_param("PipelineExecutionArn"), self._get_param("ClientRequestToken") or ""
        with _lock:
            execution = get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, arn)
            tokens = execution.__dict__.setdefault(RETRY_TOKENS, set())
            if token and token in tokens:
                return ActionResult({"PipelineExecutionArn": arn})
            status = execution.pipeline_execution_status
            if status not in ("Failed", "Stopped"):
                raise ConflictException(f"Pipeline execution {arn} is {status}: only a failed or stopped execution can be retried")
            pipeline = get_pipeline_from_name(self.sagemaker_backend.pipelines, arn.split(":pipeline/")[1].split("/")[0])
            tokens.add(token)
            retry(pipeline, execution)
        return ActionResult({"PipelineExecutionArn": arn})

    def delete_model_package(self: SageMakerResponse) -> ActionResult:
        backend, name = self.sagemaker_backend, self._get_param("ModelPackageName")
        key = backend.model_package_name_mapping.get(name, name)
        package = backend.model_packages.pop(key, None)
        if package is None:
            raise ResourceNotFound(f"Model package {name} does not exist")
        for alias in [alias for alias, target in backend.model_package_name_mapping.items() if target == key]:
            del backend.model_package_name_mapping[alias]
        return ActionResult({})

    def delete_model_package_group(self: SageMakerResponse) -> ActionResult:
        backend, name = self.sagemaker_backend, self._get_param("ModelPackageGroupName")
        if name not in backend.model_package_groups:
            raise ResourceNotFound(f"Model package group {name} does not exist")
        if any(p.model_package_group_name == name for p in backend.model_packages.values()):
            # as AWS: a group that still holds versions cannot be deleted
            raise ConflictException(f"Model package group {name} still holds model packages: delete them first")
        del backend.model_package_groups[name]
        return ActionResult({})

    with ExitStack() as stack:
        for lookup in (get_pipeline_from_name, get_pipeline_execution_from_arn):  # what moto's own pipeline APIs call
            stack.enter_context(mock.patch.object(sagemaker_models, lookup.__name__, lookup))
        stack.enter_context(mock.patch.object(SageMakerModelBackend, "start_pipeline_execution", start_pipeline_execution))
        stack.enter_context(mock.patch.object(SageMakerModelBackend, "describe_pipeline_execution", describe_pipeline_execution))
        stack.enter_context(mock.patch.object(SageMakerModelBackend, "update_model_package", update_model_package))
        for name, action in (("list_pipeline_execution_steps", list_pipeline_execution_steps),
                             ("retry_pipeline_execution", retry_pipeline_execution),
                             ("delete_model_package", delete_model_package),
                             ("delete_model_package_group", delete_model_package_group)):
            stack.enter_context(mock.patch.object(SageMakerResponse, name, action, create=True))
        yield


def _resource_not_found(lookup: Callable[[dict[str, Any], str], Any]) -> Callable[[dict[str, Any], str], Any]:
    """moto's lookup, answering a missing pipeline or execution as SageMaker does: ResourceNotFound (moto:
    ValidationException)."""

    @functools.wraps(lookup)
    def found(pipelines: dict[str, Any], name_or_arn: str) -> Any:
        try:
            return lookup(pipelines, name_or_arn)
        except ValidationError as err:
            raise ResourceNotFound(err.message) from err

    return found


get_pipeline_from_name = _resource_not_found(_moto_pipeline_lookup)
get_pipeline_execution_from_arn = _resource_not_found(_moto_execution_lookup)


# --- what the local runner records on moto's execution objects ------------------------------------------------------
# moto keeps an execution as a FakePipelineExecution; the runner's step records and the succeeded steps' outputs live
# on it as two attributes of ours, so that a durable stack keeps and restores them with it (emulated/state/sagemaker.py).
_STEPS = "mlrelay_steps"  # the runner's StepRecords, oldest first
_OUTPUTS = "mlrelay_outputs"  # (succeeded steps' properties, models by name), which a retry reuses


def begin(execution: Any) -> None:
    """moto created the execution as Succeeded with no steps; it is now running, with none yet."""
    set_status(execution, "Executing", None)
    setattr(execution, _STEPS, [])
    setattr(execution, _OUTPUTS, ({}, {}))


def set_status(execution: Any, status: str, failure_reason: str | None, at: Any = None) -> None:
    execution.pipeline_execution_status = status
    execution.pipeline_execution_failure_reason = failure_reason
    if at is not None:
        execution.last_modified_time = at


def step_records(execution: Any) -> list[Any]:
    """The execution's step records, oldest first (the list itself, kept on the execution: the runner appends to it)."""
    if not hasattr(execution, _STEPS):
        setattr(execution, _STEPS, [])
    return getattr(execution, _STEPS)


def step_outputs(execution: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(properties of succeeded steps, models by name): kept on the execution, so a retry reuses them."""
    if not hasattr(execution, _OUTPUTS):
        setattr(execution, _OUTPUTS, ({}, {}))
    return getattr(execution, _OUTPUTS)


def fail_running(execution: Any, reason: str, at: Any) -> None:
    """The execution and its running steps end Failed with `reason` (a stack stopped under them)."""
    for step in step_records(execution):
        if step.status == "Executing":
            step.status, step.failure_reason, step.ended = "Failed", reason, at
    set_status(execution, "Failed", reason, at)
