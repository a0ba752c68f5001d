"""The training pipeline, built with the SageMaker Python SDK (build time only).

Split (processing) ▸ Train (the team's code, SageMaker script mode) ▸
CreateModel ▸ TransformValidation (batch transform with the code's serving
functions) ▸ Evaluate (processing: metrics.json, and the monitoring baseline:
statistics.json, constraints.json, attributions.json). Everything a run varies is a
pipeline parameter: the framework images, the code bundle and its entry
point, the instances, and what the table and the bundle held at the start.
What no parameter can carry (the code's own hyperparameters, free-form keys;
the validation channel's name; the model's own role) the training workflow
writes into each model's copy of this definition (chalicelib/training/plan.py,
chalicelib/shared/model_pipelines.py).
Outputs go under runs/<ModelName>/<RunId>/ in the stack's bucket.
"""

from __future__ import annotations

from typing import Any

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from mlrelay.pipeline_builder.code import CodeBundle
from mlrelay.pipeline_builder.steps import (
    CACHE,
    DEFAULT_PROCESSING_IMAGE,
    LIBRARY,
    PROCESSING_INSTANCE,
    RETRIES,
    batch_transform_step,
    library_input,
    processing_image,
    processor,
    run_path,
)


def get_pipeline(session: Any, role: str, bucket: str, name: str, code: CodeBundle) -> Pipeline:
    model_name = ParameterString("ModelName")  # the run's model: its outputs go under runs/<ModelName>/<RunId>/
    run_id = ParameterString("RunId")
    spec = ParameterString("RunSpecUri")  # the run's spec.json: label, features, task (never column names in parameters)
    input_uri = ParameterString("InputDataUri")
    image = processing_image()
    training_image = ParameterString("TrainingImage", default_value=DEFAULT_PROCESSING_IMAGE)
    serving_image = ParameterString("ServingImage", default_value=DEFAULT_PROCESSING_IMAGE)
    code_uri = ParameterString("CodeUri", default_value=code.builtin.uri(bucket))  # the built-in models' code
    entry_point = ParameterString("EntryPoint", default_value="train.py")
    region = ParameterString("Region", default_value="us-east-1")
    instance_type = ParameterString("TrainingInstanceType", default_value="ml.m5.large")
    instance_count = ParameterInteger("TrainingInstanceCount", default_value=1)
    max_runtime = ParameterInteger("MaxRuntimeSeconds", default_value=3600)
    # What the table and the code bundle held when the run started (chalicelib/aws/s3.py identity). Step caching
    # keys on a step's arguments: with these in them, a table or bundle changed at the same URI is read again.
    input_version = ParameterString("InputDataVersion", default_value="unknown")
    code_version = ParameterString("CodeVersion", default_value="unknown")
    inputs_read: dict[str, str | PipelineVariable] = {
        "MLRELAY_INPUT_DATA_VERSION": input_version, "MLRELAY_CODE_VERSION": code_version,
    }

    def outputs_of(*parts: str) -> Any:
        return run_path(bucket, model_name, run_id, *parts)

    # named: an unnamed input shared by steps keeps the name its first step gave it, which another input of a later step may have
    spec_input = ProcessingInput(source=spec, destination="/opt/ml/processing/input/spec", input_name="spec")
    split = ProcessingStep(
        name="Split",
        step_args=processor(image, role, session, f"{name}-split", env={"MLRELAY_INPUT_DATA_VERSION": input_version}).run(
            code=code.uri(bucket, "split.py"),
            inputs=[ProcessingInput(source=input_uri, destination="/opt/ml/processing/input/data"), spec_input,
                    library_input(bucket, code.prefix)],
            outputs=[
                ProcessingOutput(output_name=o, source=f"/opt/ml/processing/{o}", destination=outputs_of("split", o))
                # no output's name starts with another's: a channel's S3 prefix would take the longer one's files too
                for o in ("train", "validation", "transform_input", "schema")
            ],
            # Container paths are passed explicitly so any runner can map them.
            arguments=[
                "--input", "/opt/ml/processing/input/data", "--spec", "/opt/ml/processing/input/spec",
                "--train", "/opt/ml/processing/train", "--validation", "/opt/ml/processing/validation",
                "--transform-input", "/opt/ml/processing/transform_input", "--schema", "/opt/ml/processing/schema",
                "--library", LIBRARY,
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )
    split_output = split.properties.ProcessingOutputConfig.Outputs

    estimator = Estimator(
        image_uri=training_image, role=role, instance_type=instance_type, instance_count=instance_count,
        max_run=max_runtime, output_path=outputs_of("model"), base_job_name=f"{name}-train", sagemaker_session=session,
        # Script mode: the framework container downloads the bundle, installs its requirements.txt and runs
        # the entry point with the hyperparameters as --name value (aws/sagemaker-training-toolkit).
        hyperparameters={
            "sagemaker_program": entry_point, "sagemaker_submit_directory": code_uri, "sagemaker_region": region,
            "sagemaker_container_log_level": "20",
        },
        disable_profiler=True,
        environment=inputs_read,  # Train reads the Split's outputs, whose paths stay the same when the table changes
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit({
            channel: TrainingInput(split_output[channel].S3Output.S3Uri, content_type="text/csv")
            for channel in ("train", "validation", "schema")  # the model's copy may rename validation (data.validation_channel)
        }),
        cache_config=CACHE, retry_policies=RETRIES,
    )

    model = Model(
        image_uri=serving_image, model_data=train.properties.ModelArtifacts.S3ModelArtifacts, role=role, sagemaker_session=session,
        env={"SAGEMAKER_PROGRAM": entry_point, "SAGEMAKER_SUBMIT_DIRECTORY": code_uri, "SAGEMAKER_REGION": region,
             "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
    )
    create_model = ModelStep(name="CreateModel", step_args=model.create(instance_type=PROCESSING_INSTANCE))

    transform = batch_transform_step(
        "TransformValidation", create_model, split_output["transform_input"].S3Output.S3Uri,
        outputs_of("transform"), session,
    )

    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="metrics.json")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=processor(image, role, session, f"{name}-evaluate").run(
            code=code.uri(bucket, "evaluate.py"),
            inputs=[
                ProcessingInput(source=split_output["validation"].S3Output.S3Uri, destination="/opt/ml/processing/input/validation"),
                ProcessingInput(source=split_output["train"].S3Output.S3Uri, destination="/opt/ml/processing/input/train"),
                ProcessingInput(source=split_output["schema"].S3Output.S3Uri, destination="/opt/ml/processing/input/schema"),
                ProcessingInput(
                    source=transform.properties.TransformOutput.S3OutputPath, destination="/opt/ml/processing/input/predictions",
                ),
                ProcessingInput(source=train.properties.ModelArtifacts.S3ModelArtifacts, destination="/opt/ml/processing/input/model"),
                spec_input,
                library_input(bucket, code.prefix),
            ],
            outputs=[
                ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation", destination=outputs_of("evaluation")),
            ],
            arguments=[
                "--validation", "/opt/ml/processing/input/validation", "--train", "/opt/ml/processing/input/train",
                "--predictions", "/opt/ml/processing/input/predictions", "--model", "/opt/ml/processing/input/model",
                "--output", "/opt/ml/processing/evaluation", "--spec", "/opt/ml/processing/input/spec", "--library", LIBRARY,
                "--schema", "/opt/ml/processing/input/schema",
            ],
        ),
        property_files=[evaluation_report],
        cache_config=CACHE, retry_policies=RETRIES,
    )

    return Pipeline(
        name=name,
        parameters=[
            model_name, run_id, spec, input_uri, image, training_image, serving_image, code_uri, entry_point, region, instance_type,
            instance_count, max_runtime, input_version, code_version,
        ],
        steps=[split, train, create_model, transform, evaluate],
        sagemaker_session=session,
    )
