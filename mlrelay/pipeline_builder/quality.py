"""The model-quality pipeline, built with the SageMaker Python SDK (build time only).

One processing step, EvaluateQuality (pipelines/scripts/model_quality.py):
the labels file a team dropped, joined by item id to the predictions the
approved version made, into the training evaluation's metrics document. The
predictions come as a manifest of prediction files (S3DataType ManifestFile)
that the workflow writes: the approved version's loaded runs, newest first in
the run's spec. Outputs go under runs/<ModelName>/<RunId>/quality/.
"""

from __future__ import annotations

from typing import Any

from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from mlrelay.pipeline_builder.code import CodeBundle
from mlrelay.pipeline_builder.steps import CACHE, LIBRARY, RETRIES, library_input, processing_image, processor, run_path


def get_quality_pipeline(session: Any, role: str, bucket: str, name: str, code: CodeBundle) -> Pipeline:
    model_name = ParameterString("ModelName")  # the run's model: its outputs go under runs/<ModelName>/<RunId>/
    run_id = ParameterString("RunId")
    spec = ParameterString("RunSpecUri")
    image = processing_image()
    labels = ParameterString("LabelsUri")
    predictions = ParameterString("PredictionsManifestUri")

    evaluate = ProcessingStep(
        name="EvaluateQuality",
        step_args=processor(image, role, session, f"{name}-evaluate").run(
            code=code.uri(bucket, "model_quality.py"),
            inputs=[
                ProcessingInput(source=labels, destination="/opt/ml/processing/input/labels"),
                ProcessingInput(source=predictions, destination="/opt/ml/processing/input/predictions", s3_data_type="ManifestFile"),
                ProcessingInput(source=spec, destination="/opt/ml/processing/input/spec"),
                library_input(bucket, code.prefix),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="quality", source="/opt/ml/processing/quality",
                    destination=run_path(bucket, model_name, run_id, "quality"),
                ),
            ],
            arguments=[
                "--labels", "/opt/ml/processing/input/labels", "--predictions", "/opt/ml/processing/input/predictions",
                "--spec", "/opt/ml/processing/input/spec", "--library", LIBRARY, "--output", "/opt/ml/processing/quality",
            ],
        ),
        cache_config=CACHE, retry_policies=RETRIES,
    )
    return Pipeline(
        name=name, parameters=[model_name, run_id, spec, image, labels, predictions], steps=[evaluate], sagemaker_session=session,
    )
