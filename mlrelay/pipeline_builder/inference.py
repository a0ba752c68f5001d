"""The inference pipeline, built with the SageMaker Python SDK (build time only).

Prepare (processing: select the items, split them into files of moderate
size) ▸ CreateModel (the approved model package's container) ▸ Transform
(batch transform with the model's serving functions) ▸ Assemble (processing:
predictions joined to item ids, a COPY manifest and a summary) beside Monitor
(processing: the items and predictions checked against the approved version's
training baseline, pipelines/scripts/monitor.py). What to
select (columns, mode, window) is in the run's spec file, never in a
parameter. Outputs go under runs/<ModelName>/<RunId>/ in the bucket.

CreateModel takes the package's image, artifact and code as parameters,
which the workflow reads with DescribeModelPackage: the SDK's ModelPackage
class calls that API while *building* and cannot take a pipeline parameter.
"""

from __future__ import annotations

from typing import Any

from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from mlrelay.pipeline_builder.code import CodeBundle
from mlrelay.pipeline_builder.steps import (
    CACHE,
    LIBRARY,
    PROCESSING_INSTANCE,
    RETRIES,
    batch_transform_step,
    library_input,
    processing_image,
    processor,
    run_path,
)


def get_inference_pipeline(session: Any, role: str, bucket: str, name: str, code: CodeBundle) -> Pipeline:
    model_name = ParameterString("ModelName")  # the run's model: its outputs go under runs/<ModelName>/<RunId>/
    run_id = ParameterString("RunId")
    spec = ParameterString("RunSpecUri")
    image = processing_image()
    model_image = ParameterString("ModelImageUri")
    model_data = ParameterString("ModelDataUrl")
    model_code = ParameterString("ModelCodeUri")  # the package's SAGEMAKER_SUBMIT_DIRECTORY
    model_program = ParameterString("ModelProgram", default_value="train.py")
    region = ParameterString("Region", default_value="us-east-1")
    catalogue = ParameterString("CatalogueUri")
    baseline = ParameterString("BaselineUri")  # the approved version's training run's Evaluate output

    def outputs_of(*parts: str) -> Any:
        return run_path(bucket, model_name, run_id, *parts)

    # named: an unnamed input shared by steps keeps the name its first step gave it, which another input of a later step may have
    spec_input = ProcessingInput(source=spec, destination="/opt/ml/processing/input/spec", input_name="spec")
    library = library_input(bucket, code.prefix)
    baseline_input = ProcessingInput(source=baseline, destination="/opt/ml/processing/input/baseline", input_name="baseline")
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor(image, role, session, f"{name}-prepare").run(
            code=code.uri(bucket, "prepare_inference.py"),
            inputs=[ProcessingInput(source=catalogue, destination="/opt/ml/processing/input/catalogue"), spec_input, library],
            outputs=[
                ProcessingOutput(output_name=o, source=f"/opt/ml/processing/{o}", destination=outputs_of("prepare", o))
                for o in ("items", "ids", "selection")
            ],
            arguments=[
                "--input", "/opt/ml/processing/input/catalogue", "--spec", "/opt/ml/processing/input/spec",
                "--items", "/opt/ml/processing/items", "--ids", "/opt/ml/processing/ids", "--selection", "/opt/ml/processing/selection",
                "--library", LIBRARY,
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )
    outputs = prepare.properties.ProcessingOutputConfig.Outputs

    model = Model(
        image_uri=model_image, model_data=model_data, role=role, sagemaker_session=session,
        env={"SAGEMAKER_PROGRAM": model_program, "SAGEMAKER_SUBMIT_DIRECTORY": model_code, "SAGEMAKER_REGION": region,
             "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
    )
    create_model = ModelStep(name="CreateModel", step_args=model.create(instance_type=PROCESSING_INSTANCE))

    transform = batch_transform_step("Transform", create_model, outputs["items"].S3Output.S3Uri, outputs_of("transform"), session)

    assemble = ProcessingStep(
        name="Assemble",
        step_args=processor(image, role, session, f"{name}-assemble").run(
            code=code.uri(bucket, "assemble_predictions.py"),
            inputs=[
                ProcessingInput(source=outputs["ids"].S3Output.S3Uri, destination="/opt/ml/processing/input/ids"),
                ProcessingInput(
                    source=transform.properties.TransformOutput.S3OutputPath, destination="/opt/ml/processing/input/predictions",
                ),
                spec_input,
                library,
                baseline_input,
            ],
            outputs=[
                ProcessingOutput(output_name="predictions", source="/opt/ml/processing/output", destination=outputs_of("predictions")),
            ],
            arguments=[
                "--ids", "/opt/ml/processing/input/ids", "--predictions", "/opt/ml/processing/input/predictions",
                "--spec", "/opt/ml/processing/input/spec", "--output", "/opt/ml/processing/output",
                "--output-uri", outputs_of("predictions"), "--library", LIBRARY, "--baseline", "/opt/ml/processing/input/baseline",
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )

    monitor = ProcessingStep(
        name="Monitor",
        step_args=processor(image, role, session, f"{name}-monitor").run(
            code=code.uri(bucket, "monitor.py"),
            inputs=[
                ProcessingInput(source=outputs["items"].S3Output.S3Uri, destination="/opt/ml/processing/input/items"),
                ProcessingInput(source=outputs["selection"].S3Output.S3Uri, destination="/opt/ml/processing/input/selection"),
                ProcessingInput(source=outputs["ids"].S3Output.S3Uri, destination="/opt/ml/processing/input/ids"),
                ProcessingInput(
                    source=transform.properties.TransformOutput.S3OutputPath, destination="/opt/ml/processing/input/predictions",
                ),
                baseline_input,
                spec_input,
                library,
            ],
            outputs=[
                ProcessingOutput(output_name="monitoring", source="/opt/ml/processing/monitoring", destination=outputs_of("monitoring")),
            ],
            arguments=[
                "--items", "/opt/ml/processing/input/items", "--selection", "/opt/ml/processing/input/selection",
                "--ids", "/opt/ml/processing/input/ids", "--predictions", "/opt/ml/processing/input/predictions",
                "--baseline", "/opt/ml/processing/input/baseline",
                "--spec", "/opt/ml/processing/input/spec", "--library", LIBRARY, "--output", "/opt/ml/processing/monitoring",
                "--output-uri", outputs_of("monitoring"),
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )

    return Pipeline(
        name=name,
        parameters=[
            model_name, run_id, spec, image, model_image, model_data, model_code, model_program, region, catalogue, baseline,
        ],
        steps=[prepare, create_model, transform, assemble, monitor],
        sagemaker_session=session,
    )
