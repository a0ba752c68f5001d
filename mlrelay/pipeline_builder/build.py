"""`mlrelay pipelines build`: write the SageMaker pipeline definitions as JSON.

The SDK checks its default bucket in S3 while it builds, so the build runs
against a throwaway moto server on loopback: no AWS account is needed. The
bucket and role are written as ${ArtifactBucket} and ${SageMakerRoleArn}, and
the stack substitutes its own when it creates the pipeline, as it does for
the state machines.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlrelay.pipeline_builder.code import code_bundle

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "pipelines"
REGION = "us-east-1"  # the scikit-learn image URIs in the definition are this region's
_BUCKET = "mlrelay-artifact-placeholder"
_ROLE = "arn:aws:iam::000000000000:role/mlrelay-sagemaker-placeholder"
SUBSTITUTIONS = {_BUCKET: "${ArtifactBucket}", _ROLE: "${SageMakerRoleArn}"}


def build_definitions(output_dir: Path = DEFINITIONS_DIR) -> dict[str, Path]:
    """Build every pipeline and write <name>.pipeline.json; returns name -> path."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from mlrelay.pipeline_builder.inference import get_inference_pipeline
    from mlrelay.pipeline_builder.quality import get_quality_pipeline
    from mlrelay.pipeline_builder.training import get_pipeline

    written = {}
    with _offline_session() as session:
        training = get_pipeline(session, _ROLE, _BUCKET, "mlrelay-training", code_bundle())
        written["training"] = _write(output_dir / "training.pipeline.json", training.definition())
        inference = get_inference_pipeline(session, _ROLE, _BUCKET, "mlrelay-inference", code_bundle())
        written["inference"] = _write(output_dir / "inference.pipeline.json", inference.definition())
        quality = get_quality_pipeline(session, _ROLE, _BUCKET, "mlrelay-quality", code_bundle())
        written["quality"] = _write(output_dir / "quality.pipeline.json", quality.definition())
    return written


def _write(path: Path, definition: str) -> Path:
    text = json.dumps(json.loads(definition), indent=2, sort_keys=True) + "\n"
    for placeholder, substitution in SUBSTITUTIONS.items():
        text = text.replace(placeholder, substitution)
    path.write_text(text)
    return path


@contextmanager
def _offline_session() -> Iterator[Any]:
    import boto3

    from mlrelay.local.emulated.server import serving

    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    for name in ("sagemaker", "sagemaker.config", "botocore.configprovider", "werkzeug"):
        logging.getLogger(name).setLevel(logging.ERROR)  # the SDK narrates every default it applies
    with serving() as server:
        saved = os.environ.get("AWS_ENDPOINT_URL")
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        try:
            boto_session = boto3.Session(region_name=REGION, aws_access_key_id="build", aws_secret_access_key="build")
            boto_session.client("s3").create_bucket(Bucket=_BUCKET)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from sagemaker.workflow.pipeline_context import PipelineSession

                # Telemetry would call an AWS endpoint from the build; opt out.
                config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
                yield PipelineSession(boto_session=boto_session, default_bucket=_BUCKET, sagemaker_config=config)
        finally:
            if saved is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = saved
