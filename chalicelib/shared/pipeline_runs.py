"""What both workflows ask of a SageMaker pipeline execution: its display name, client token and run spec, and where
a run's outputs go."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

# Steps around the user's job (split, transform, evaluate; prepare, assemble) run on top of its own limit.
PIPELINE_OVERHEAD_SECONDS = 1800
TRAIN_STEP = "Train"  # the training pipeline's step that runs the team's code (mlrelay/pipeline_builder/training.py)
_DISPLAY_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")


def pipeline_display_name(run_id: str) -> str:
    # Display names allow letters, digits and single hyphens, 82 characters.
    return re.sub("-+", "-", _DISPLAY_UNSAFE.sub("-", run_id)).strip("-")[:82]


def run_prefix(model_name: str, run_id: str) -> str:
    """The key prefix of everything a run writes: under its model, so that a role may write only runs/<model>/."""
    return f"runs/{model_name}/{run_id}"


def model_artifact_uri(bucket: str, model_name: str, run_id: str, training_job: str) -> str:
    """Where a training pipeline's Train job writes model.tar.gz (its output path, per training job)."""
    return f"s3://{bucket}/{run_prefix(model_name, run_id)}/model/{training_job}/output/model.tar.gz"


def pipeline_client_token(pipeline: str, run_id: str, parameters: list[dict[str, str]]) -> str:
    """The same run with the same parameters starts the same execution of `pipeline`, however often the
    state is retried; a run resumed with a fixed config starts a new one (its cached steps are reused)."""
    canonical = json.dumps(parameters, sort_keys=True)
    # StartPipelineExecution's ClientRequestToken is at most 128 characters.
    return hashlib.sha256(f"{pipeline}-pipeline\x1f{run_id}\x1f{canonical}".encode()).hexdigest()[:64]


def spec_key(model_name: str, run_id: str, spec: dict[str, Any]) -> str:
    """Where a run's spec.json goes (column names travel in it, never in parameters), named by its content.

    The key is a pipeline parameter, so a run resumed with a fixed config gets a new key, new parameters
    and so a new pipeline execution, instead of the client token returning the failed one.
    """
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return f"{run_prefix(model_name, run_id)}/spec-{digest}/spec.json"


def store_run_spec(s3: Any, bucket: str, model_name: str, run_id: str, spec: dict[str, Any]) -> str:
    """Write the run's spec where `spec_key` says (an S3Objects adapter); returns its URI, the RunSpecUri parameter."""
    key = spec_key(model_name, run_id, spec)
    s3.put_json(bucket, key, spec)
    return f"s3://{bucket}/{key}"


def pipeline_parameters(values: dict[str, str]) -> list[dict[str, str]]:
    """StartPipelineExecution's PipelineParameters (every value is a string there)."""
    return [{"Name": name, "Value": value} for name, value in values.items()]


def baseline_uri(bucket: str, model_name: str, training_run_id: str) -> str:
    """Where a version's evaluation and monitoring baseline are: its training run's Evaluate output."""
    return f"s3://{bucket}/{run_prefix(model_name, training_run_id)}/evaluation/"


def baseline_beside(model_artifact: str) -> str:
    """A registered version's baseline: the Evaluate output of the run whose model/ holds its artifact (read from the
    registered URI, so a version trained when a run's outputs were under runs/<run>/ finds its own there)."""
    run, model_folder, _ = model_artifact.rpartition("/model/")
    if not model_folder:
        raise ValueError(f"the model artifact {model_artifact} is not in a training run's model/ folder, so it has no baseline")
    return f"{run}/evaluation/"
