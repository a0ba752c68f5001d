"""What both pipelines are built from: the processing container, caching, retries, batch transform, run paths."""

from __future__ import annotations

from typing import Any

from sagemaker.processing import ProcessingInput, ScriptProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.workflow.steps import CacheConfig, TransformStep

PROCESSING_INSTANCE = "ml.m5.large"
# The processing steps run mlrelay's scripts in SageMaker's scikit-learn container; its URI depends
# on the region, so each run passes it (chalicelib/shared/images.py). The default is us-east-1's.
DEFAULT_PROCESSING_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
LIBRARY = "/opt/ml/processing/input/library"
CACHE = CacheConfig(enable_caching=True, expire_after="P30D")
# Service faults and throttling are retried by the pipeline itself; capacity
# errors wait longer. Script errors are not retried: they fail the run.
RETRIES = [
    StepRetryPolicy(
        exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
        interval_seconds=10, backoff_rate=2.0, max_attempts=4,
    ),
    SageMakerJobStepRetryPolicy(
        exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR, SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT],
        interval_seconds=60, backoff_rate=2.0, max_attempts=3,
    ),
]


def processing_image() -> ParameterString:
    return ParameterString("ProcessingImage", default_value=DEFAULT_PROCESSING_IMAGE)


def processor(image: ParameterString, role: str, session: Any, base_job_name: str, env: dict[str, Any] | None = None) -> ScriptProcessor:
    """The container every processing step of both pipelines runs mlrelay's scripts in."""
    return ScriptProcessor(
        image_uri=image, command=["python3"], role=role, instance_type=PROCESSING_INSTANCE, instance_count=1,
        base_job_name=base_job_name, sagemaker_session=session, env=env,
    )


def batch_transform_step(name: str, model_step: ModelStep, input_uri: Any, output_path: Any, session: Any) -> TransformStep:
    """Batch transform of headerless CSV lines, one JSON line out per line in."""
    transformer = Transformer(
        model_name=model_step.properties.ModelName, instance_type=PROCESSING_INSTANCE, instance_count=1,
        output_path=output_path, accept="application/jsonlines", assemble_with="Line",
        strategy="MultiRecord", sagemaker_session=session,
    )
    return TransformStep(
        name=name,
        step_args=transformer.transform(data=input_uri, content_type="text/csv", split_type="Line"),
        cache_config=CACHE, retry_policies=RETRIES,
    )


def library_input(bucket: str, code_prefix: str) -> ProcessingInput:
    """Every step script of this build, so a step can import the shared modules (data_profile, drift, ...)."""
    return ProcessingInput(source=f"s3://{bucket}/{code_prefix}/", destination=LIBRARY, input_name="library")


def run_path(bucket: str, model_name: ParameterString, run_id: ParameterString, *parts: str) -> Join:
    """s3://<bucket>/runs/<ModelName>/<RunId>/<parts...>: where a run's step outputs go (chalicelib's
    pipeline_runs.run_prefix), under its model so that the model's jobs need write only runs/<model>/."""
    return Join(on="/", values=[f"s3://{bucket}/runs", model_name, run_id, *parts])
