"""The training pipeline, built with the SageMaker Python SDK (build time only).

Split (processing) ▸ Train (scikit-learn training job) ▸ CreateModel ▸
TransformValidation (batch transform) ▸ Evaluate (processing, metrics.json).
Everything a run varies is a pipeline parameter, so one definition serves
every model config; outputs go under runs/<RunId>/ in the stack's bucket.
"""

from __future__ import annotations

from typing import Any

from sagemaker.inputs import TrainingInput
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.sklearn.model import SKLearnModel
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.transformer import Transformer
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep, TransformStep

from mlrelay.pipeline_builder.code import SOURCE_ARCHIVE, CodeBundle

SKLEARN_VERSION = "1.2-1"
PROCESSING_INSTANCE = "ml.m5.large"
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


def sklearn_processor(role: str, session: Any, base_job_name: str) -> SKLearnProcessor:
    """The scikit-learn container every processing step of both pipelines runs in."""
    return SKLearnProcessor(
        framework_version=SKLEARN_VERSION, role=role, instance_type=PROCESSING_INSTANCE, instance_count=1,
        base_job_name=base_job_name, sagemaker_session=session,
    )


def run_path(bucket: str, run_id: ParameterString, *parts: str) -> Join:
    """s3://<bucket>/runs/<RunId>/<parts...>: where a run's step outputs go."""
    return Join(on="/", values=[f"s3://{bucket}/runs", run_id, *parts])


def get_pipeline(session: Any, role: str, bucket: str, name: str, code: CodeBundle) -> Pipeline:
    run_id = ParameterString("RunId")
    input_uri = ParameterString("InputDataUri")
    label = ParameterString("LabelColumn")
    features = ParameterString("FeatureColumns")  # comma-separated
    split_ratio = ParameterFloat("ValidationSplit", default_value=0.2)
    model_type = ParameterString("ModelType", default_value="sklearn.gradient_boosting")
    hyperparameters = ParameterString("Hyperparameters", default_value="{}")  # a JSON object
    instance_type = ParameterString("TrainingInstanceType", default_value="ml.m5.large")

    def outputs_of(*parts: str) -> Join:
        return run_path(bucket, run_id, *parts)

    split = ProcessingStep(
        name="Split",
        step_args=sklearn_processor(role, session, f"{name}-split").run(
            code=code.uri(bucket, "split.py"),
            inputs=[ProcessingInput(source=input_uri, destination="/opt/ml/processing/input/data")],
            outputs=[
                ProcessingOutput(output_name=o, source=f"/opt/ml/processing/{o}", destination=outputs_of("split", o))
                for o in ("train", "validation", "validation_features")
            ],
            # Container paths are passed explicitly so any runner can map them.
            arguments=[
                "--label-column", label, "--feature-columns", features,
                "--validation-split", split_ratio.to_string(), "--input", "/opt/ml/processing/input/data",
                "--train", "/opt/ml/processing/train", "--validation", "/opt/ml/processing/validation",
                "--validation-features", "/opt/ml/processing/validation_features",
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )
    split_output = split.properties.ProcessingOutputConfig.Outputs

    estimator = SKLearn(
        entry_point="train.py", source_dir=code.uri(bucket, SOURCE_ARCHIVE), framework_version=SKLEARN_VERSION,
        py_version="py3", role=role, instance_type=instance_type, instance_count=1,  # scikit-learn: one instance
        output_path=outputs_of("model"), base_job_name=f"{name}-train", sagemaker_session=session,
        hyperparameters={"model-type": model_type, "hyperparameters": hyperparameters, "label-column": label},
        disable_profiler=True,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit({"train": TrainingInput(split_output["train"].S3Output.S3Uri, content_type="text/csv")}),
        cache_config=CACHE, retry_policies=RETRIES,
    )

    model = SKLearnModel(
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts, role=role, entry_point="train.py",
        source_dir=code.uri(bucket, SOURCE_ARCHIVE), framework_version=SKLEARN_VERSION, sagemaker_session=session,
    )
    create_model = ModelStep(name="CreateModel", step_args=model.create(instance_type=PROCESSING_INSTANCE))

    transform = batch_transform_step(
        "TransformValidation", create_model, split_output["validation_features"].S3Output.S3Uri,
        outputs_of("transform"), session,
    )

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="metrics.json")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=sklearn_processor(role, session, f"{name}-evaluate").run(
            code=code.uri(bucket, "evaluate.py"),
            inputs=[
                ProcessingInput(source=split_output["validation"].S3Output.S3Uri, destination="/opt/ml/processing/input/validation"),
                ProcessingInput(source=split_output["train"].S3Output.S3Uri, destination="/opt/ml/processing/input/train"),
                ProcessingInput(
                    source=transform.properties.TransformOutput.S3OutputPath, destination="/opt/ml/processing/input/predictions",
                ),
            ],
            outputs=[
                ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation", destination=outputs_of("evaluation")),
            ],
            arguments=[
                "--label-column", label, "--validation", "/opt/ml/processing/input/validation",
                "--train", "/opt/ml/processing/input/train", "--predictions", "/opt/ml/processing/input/predictions",
                "--output", "/opt/ml/processing/evaluation",
            ],
        ),
        property_files=[evaluation_report],
        cache_config=CACHE, retry_policies=RETRIES,
    )

    return Pipeline(
        name=name,
        parameters=[run_id, input_uri, label, features, split_ratio, model_type, hyperparameters, instance_type],
        steps=[split, train, create_model, transform, evaluate],
        sagemaker_session=session,
    )
