"""SageMaker pipelines (reads and retries) and the model registry."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, translated
from chalicelib.shared.naming import package_group_name

# SageMaker limits: a model package description is at most 1,024 characters,
# customer metadata values at most 256.
MAX_DESCRIPTION = 1024
MAX_METADATA_VALUE = 256


@dataclass(frozen=True)
class PipelineDescription:
    definition: dict[str, Any]
    role_arn: str


@dataclass(frozen=True)
class PipelineOutcome:
    status: str
    failure_reason: str  # the failed step's own reason when there is one
    failed_step: str = ""
    run_id: str = ""  # the execution's description: the workflows start it with the run id
    trained_job: str = ""  # the training job of a Train step that succeeded, if any


# IAM is eventually consistent: a model's role made seconds ago may not yet be one SageMaker can assume, and
# CreatePipeline says so (ValidationException). Waits between tries, about 30 s in all (the step has 120 s).
NEW_ROLE_WAITS = (2.0, 4.0, 8.0, 8.0, 8.0)


class Pipelines:
    def __init__(self, sagemaker_client: Any = None, sleep: Callable[[float], None] = time.sleep):
        self._client = sagemaker_client or client("sagemaker")
        self._sleep = sleep

    def outcome(self, execution_arn: str) -> PipelineOutcome:
        with translated(f"cannot describe pipeline execution {execution_arn}"):
            execution = self._client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        steps = self.steps(execution_arn)
        failed = [s for s in steps if s.get("StepStatus") == "Failed" and s.get("FailureReason")]
        reason = f"step {failed[0]['StepName']}: {failed[0]['FailureReason']}" if failed else execution.get("FailureReason", "")
        trained = [s["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1] for s in steps
                   if s.get("StepStatus") == "Succeeded" and "TrainingJob" in s.get("Metadata", {})]
        return PipelineOutcome(
            execution["PipelineExecutionStatus"], reason, failed[0]["StepName"] if failed else "",
            str(execution.get("PipelineExecutionDescription", "")), trained[0] if trained else "",
        )

    def retry(self, execution_arn: str, client_token: str) -> None:
        """RetryPipelineExecution: the failed step and those after it run again; succeeded steps do not."""
        with translated(f"cannot retry pipeline execution {execution_arn}"):
            self._client.retry_pipeline_execution(PipelineExecutionArn=execution_arn, ClientRequestToken=client_token)

    def parameters(self, execution_arn: str) -> dict[str, str]:
        """The values the execution was started with, by parameter name."""
        values: dict[str, str] = {}
        with translated(f"cannot list the parameters of pipeline execution {execution_arn}"):
            for page in self._client.get_paginator("list_pipeline_parameters_for_execution").paginate(
                PipelineExecutionArn=execution_arn,
            ):
                values.update({p["Name"]: p["Value"] for p in page["PipelineParameters"]})
        return values

    def steps(self, execution_arn: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        with translated(f"cannot list the steps of pipeline execution {execution_arn}"):
            for page in self._client.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=execution_arn):
                steps.extend(page["PipelineExecutionSteps"])
        return steps

    def describe(self, pipeline_name: str) -> PipelineDescription:
        with translated(f"cannot describe pipeline {pipeline_name}"):
            response = self._client.describe_pipeline(PipelineName=pipeline_name)
        return PipelineDescription(json.loads(response["PipelineDefinition"]), response["RoleArn"])

    def ensure(self, pipeline_name: str, definition: dict[str, Any], role_arn: str, description: str) -> bool:
        """Create the pipeline unless it exists (its name derives from its content, so an existing one is the same)."""
        for wait in (*NEW_ROLE_WAITS, None):
            try:
                with translated(f"cannot create pipeline {pipeline_name}"):
                    self._client.create_pipeline(
                        PipelineName=pipeline_name, PipelineDefinition=json.dumps(definition), RoleArn=role_arn,
                        PipelineDescription=description[:3072], ClientRequestToken=_token(pipeline_name),
                    )
                return True
            except AwsError as err:
                if err.code in ("ResourceInUse", "ConflictException") or "already exists" in str(err):
                    return False
                if wait is None or not _role_not_yet_usable(err):
                    raise
                self._sleep(wait)
        raise AssertionError("unreachable: the last try returns or raises")


def _role_not_yet_usable(err: AwsError) -> bool:
    text = str(err).lower()
    return err.code == "ValidationException" and "role" in text and "assume" in text


def _token(pipeline_name: str) -> str:
    return hashlib.sha256(pipeline_name.encode()).hexdigest()[:64]


class ModelRegistry:
    """The registry's package groups of one stage: callers name models, the groups are `mlrelay-<stage>-<model>`."""

    def __init__(self, stage: str, sagemaker_client: Any = None):
        self._client = sagemaker_client or client("sagemaker")
        self._stage = stage

    def ensure_group(self, model_name: str, description: str) -> None:
        group = package_group_name(self._stage, model_name)
        try:
            with translated(f"cannot create model package group {group}"):
                self._client.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription=description)
        except AwsError as err:
            if "already exists" not in str(err):
                raise

    def register(
        self, model_name: str, status: str, description: str, container: dict[str, Any], metadata: dict[str, str],
        documents: str = "",
    ) -> str:
        """Create the next model package version; returns its ARN.

        `documents` is the S3 prefix of the run's evaluation: its metrics, data-quality baseline and
        attributions become the package's ModelMetrics, where the registry and its console show them.
        """
        group = package_group_name(self._stage, model_name)
        with translated(f"cannot register a model package in {group}"):
            response = self._client.create_model_package(
                ModelPackageGroupName=group,
                ModelPackageDescription=description[:MAX_DESCRIPTION],
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [container],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["application/jsonlines"],
                },
                CustomerMetadataProperties={k: str(v)[:MAX_METADATA_VALUE] for k, v in metadata.items()},
                **({"ModelMetrics": model_metrics(documents)} if documents else {}),
            )
        return str(response["ModelPackageArn"])

    def set_status(self, model_package_arn: str, status: str, description: str) -> None:
        """UpdateModelPackage's ModelApprovalStatus; SageMaker then sends its state-change event."""
        with translated(f"cannot set {model_package_arn} to {status}"):
            self._client.update_model_package(
                ModelPackageArn=model_package_arn, ModelApprovalStatus=status, ApprovalDescription=description[:MAX_DESCRIPTION],
            )

    def status(self, model_package_arn: str) -> str:
        """The version's ModelApprovalStatus as the registry holds it now."""
        with translated(f"cannot describe model package {model_package_arn}"):
            return str(self._client.describe_model_package(ModelPackageName=model_package_arn)["ModelApprovalStatus"])

    def record_lineage(self, model_name: str, version: int, model_package_arn: str, lineage: dict[str, Any]) -> str:
        """The version's lineage as ML Lineage Tracking entities (chalicelib/aws/sagemaker_lineage.py); its context's ARN."""
        from chalicelib.aws.sagemaker_lineage import LineageTracking

        return LineageTracking(self._stage, self._client).record(model_name, version, model_package_arn, lineage)

    def container(self, model_package_arn: str) -> dict[str, Any]:
        """The serving container a model package version registered (image, artifact, code)."""
        with translated(f"cannot describe model package {model_package_arn}"):
            package = self._client.describe_model_package(ModelPackageName=model_package_arn)
        return dict(package["InferenceSpecification"]["Containers"][0])


def model_metrics(prefix: str) -> dict[str, Any]:
    """CreateModelPackage's ModelMetrics for the documents the Evaluate step writes under `prefix`."""

    def document(name: str) -> dict[str, str]:
        return {"ContentType": "application/json", "S3Uri": f"{prefix.rstrip('/')}/{name}"}

    return {
        "ModelQuality": {"Statistics": document("metrics.json")},
        "ModelDataQuality": {"Statistics": document("statistics.json"), "Constraints": document("constraints.json")},
        "Explainability": {"Report": document("attributions.json")},
    }
