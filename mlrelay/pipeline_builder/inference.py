"""The inference pipeline, built with the SageMaker Python SDK (build time only).

Prepare (processing: select the items, split them into files of RowsPerFile
rows) ▸ CreateModel (the approved model package's container) ▸ Transform
(batch transform) ▸ Assemble (processing: predictions joined to item ids, a
COPY manifest and a summary). Outputs go under runs/<RunId>/ in the bucket.

CreateModel takes the package's image, artifact and code as parameters,
which the workflow reads with DescribeModelPackage: the SDK's ModelPackage
class calls that API while *building* and cannot take a pipeline parameter.
"""

from __future__ import annotations

from typing import Any

from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from mlrelay.pipeline_builder.code import CodeBundle
from mlrelay.pipeline_builder.training import (
    CACHE,
    PROCESSING_INSTANCE,
    RETRIES,
    batch_transform_step,
    run_path,
    sklearn_processor,
)


def get_inference_pipeline(session: Any, role: str, bucket: str, name: str, code: CodeBundle) -> Pipeline:
    run_id = ParameterString("RunId")
    model_image = ParameterString("ModelImageUri")
    model_data = ParameterString("ModelDataUrl")
    model_code = ParameterString("ModelCodeUri")  # the package's SAGEMAKER_SUBMIT_DIRECTORY
    model_program = ParameterString("ModelProgram", default_value="train.py")
    catalogue = ParameterString("CatalogueUri")
    id_column = ParameterString("IdColumn", default_value="item_id")
    added_at_column = ParameterString("AddedAtColumn", default_value="added_at")
    features = ParameterString("FeatureColumns")
    mode = ParameterString("Mode", default_value="monthly")
    since = ParameterString("Since", default_value="")
    until = ParameterString("Until", default_value="")
    rows_per_file = ParameterInteger("RowsPerFile", default_value=50_000)

    def outputs_of(*parts: str) -> Join:
        return run_path(bucket, run_id, *parts)

    def processor(step: str) -> SKLearnProcessor:
        return sklearn_processor(role, session, f"{name}-{step}")

    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor("prepare").run(
            code=code.uri(bucket, "prepare_inference.py"),
            inputs=[ProcessingInput(source=catalogue, destination="/opt/ml/processing/input/catalogue")],
            outputs=[
                ProcessingOutput(output_name=o, source=f"/opt/ml/processing/{o}", destination=outputs_of("prepare", o))
                for o in ("items", "ids", "selection")
            ],
            arguments=[
                "--id-column", id_column, "--added-at-column", added_at_column, "--feature-columns", features,
                "--mode", mode, "--since", since, "--until", until, "--rows-per-file", rows_per_file.to_string(),
                "--input", "/opt/ml/processing/input/catalogue", "--items", "/opt/ml/processing/items",
                "--ids", "/opt/ml/processing/ids", "--selection", "/opt/ml/processing/selection",
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )
    outputs = prepare.properties.ProcessingOutputConfig.Outputs

    model = Model(
        image_uri=model_image, model_data=model_data, role=role, sagemaker_session=session,
        env={"SAGEMAKER_PROGRAM": model_program, "SAGEMAKER_SUBMIT_DIRECTORY": model_code},
    )
    create_model = ModelStep(name="CreateModel", step_args=model.create(instance_type=PROCESSING_INSTANCE))

    transform = batch_transform_step("Transform", create_model, outputs["items"].S3Output.S3Uri, outputs_of("transform"), session)

    assemble = ProcessingStep(
        name="Assemble",
        step_args=processor("assemble").run(
            code=code.uri(bucket, "assemble_predictions.py"),
            inputs=[
                ProcessingInput(source=outputs["ids"].S3Output.S3Uri, destination="/opt/ml/processing/input/ids"),
                ProcessingInput(
                    source=transform.properties.TransformOutput.S3OutputPath, destination="/opt/ml/processing/input/predictions",
                ),
            ],
            outputs=[
                ProcessingOutput(output_name="predictions", source="/opt/ml/processing/output", destination=outputs_of("predictions")),
            ],
            arguments=[
                "--ids", "/opt/ml/processing/input/ids", "--predictions", "/opt/ml/processing/input/predictions",
                "--output", "/opt/ml/processing/output", "--output-uri", outputs_of("predictions"),
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )

    return Pipeline(
        name=name,
        parameters=[
            run_id, model_image, model_data, model_code, model_program, catalogue, id_column, added_at_column, features, mode,
            since, until, rows_per_file,
        ],
        steps=[prepare, create_model, transform, assemble],
        sagemaker_session=session,
    )
