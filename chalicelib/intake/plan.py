"""Decide what a dropped config object means: start a run, reject, or ignore.

configs/train/ holds model configs (a training run); configs/infer/ holds
inference requests (an on-demand inference run); labels/<model>/ holds labels
that arrived later (a quality run: chalicelib/inference/quality.py).

Pure functions returning small plan objects; chalicelib/intake/handler.py
carries the plan out. Nothing here touches AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from chalicelib.config.inference_request import InferenceRequestConfig
from chalicelib.config.parsing import MAX_CONFIG_BYTES, ConfigError, ConfigProblem, parse_config, parse_new_config
from chalicelib.config.schema import ModelConfig, ModelName, UserCode
from chalicelib.shared.messages import (
    MAX_PROBLEMS_IN_MESSAGE,
    ConfigRef,
    ConfigRejected,
    InferenceRequested,
    ProblemEntry,
    TrainingRequested,
)
from chalicelib.shared.naming import execution_name, on_demand_run_id, training_run_id, upload_identity

ERROR_REPORT_SUFFIX = ".error.json"
LOCAL_FOLDER = (
    "names a folder on someone's machine, which SageMaker cannot read: upload the config with `mlrelay local drop` "
    "(or `mlrelay submit`), which packs the folder and sets model.code_uri"
)
INFERENCE_PREFIX = "configs/infer/"
LABELS_PREFIX = "labels/"
_MODEL_NAMES: TypeAdapter[str] = TypeAdapter(ModelName)


@dataclass(frozen=True)
class DroppedObject:
    """One object version that S3 reported as created."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    event_time: datetime

    @property
    def ref(self) -> ConfigRef:
        return ConfigRef(bucket=self.bucket, key=self.key, version_id=self.version_id, etag=self.etag)


@dataclass(frozen=True)
class StartTraining:
    run_id: str
    request: TrainingRequested
    config: ModelConfig  # what the preflight checks (chalicelib/intake/preflight.py) read
    notifications: dict[str, Any]  # the config's notifications section: who hears about this model from now on


@dataclass(frozen=True)
class StartInference:
    run_id: str
    request: InferenceRequested


@dataclass(frozen=True)
class RejectConfig:
    report_key: str
    report: dict[str, Any]
    message: ConfigRejected


@dataclass(frozen=True)
class IgnoreObject:
    reason: str


def should_ignore(dropped: DroppedObject) -> IgnoreObject | None:
    if dropped.key.endswith(ERROR_REPORT_SUFFIX):
        return IgnoreObject("an error report written by mlrelay, not a config")
    if dropped.key.endswith("/"):
        return IgnoreObject("a folder placeholder, not a config")
    return None


def plan_config_drop(dropped: DroppedObject, data: bytes, size: int) -> StartTraining | StartInference | RejectConfig:
    """`data` is the object's content (possibly cut short when `size` is over the limit)."""
    inference = dropped.key.startswith(INFERENCE_PREFIX)
    if size > MAX_CONFIG_BYTES:
        problems = [ConfigProblem("", f"file is {size:,} bytes; a config may be at most {MAX_CONFIG_BYTES:,} bytes")]
    else:
        try:
            return _inference_run(dropped, data) if inference else _training_run(dropped, data)
        except ConfigError as err:
            problems = err.problems
    return rejection(dropped, problems, "inference" if inference else "training")


def _training_run(dropped: DroppedObject, data: bytes) -> StartTraining:
    config = parse_new_config(data, dropped.key)
    if isinstance(config.model, UserCode) and config.model.source_dir is not None:
        raise ConfigError([ConfigProblem("model.source_dir", LOCAL_FOLDER)])
    run_id = training_run_id(dropped.bucket, dropped.key, dropped.version_id, dropped.etag)
    workflow = "segments" if config.segments is not None else "training"
    request = TrainingRequested(
        run_id=run_id, workflow=workflow, model_name=config.model_name, config=dropped.ref, requested_at=dropped.event_time,
    )
    return StartTraining(run_id=run_id, request=request, config=config, notifications=config.notifications.model_dump(mode="json"))


def _inference_run(dropped: DroppedObject, data: bytes) -> StartInference:
    config = parse_config(data, dropped.key, InferenceRequestConfig)
    identity = upload_identity(dropped.version_id, dropped.etag)
    run_id = on_demand_run_id(config.model_name, dropped.bucket, dropped.key, identity)
    request = InferenceRequested(
        run_id=run_id, model_name=config.model_name, mode="on_demand", scheduled_for=dropped.event_time,
        catalogue_uri=config.catalogue_uri, predictions_table=config.predictions_table,
    )
    return StartInference(run_id=run_id, request=request)


def plan_labels_drop(dropped: DroppedObject) -> StartInference | RejectConfig:
    """labels/<model>/<file>.csv: a quality run of that model. The file itself is read by the quality pipeline."""
    parts = dropped.key.split("/")
    problems = []
    if len(parts) != 3 or not _is_model_name(parts[1]):
        problems.append(ConfigProblem("key", "labels go under labels/<model name>/<file>.csv, one folder per model"))
    if not dropped.key.endswith(".csv"):
        problems.append(ConfigProblem("key", "a labels file is a CSV with a header: the model's id column and its label column"))
    if problems:
        return rejection(dropped, problems, "inference")
    model_name = parts[1]
    run_id = execution_name("quality", model_name, dropped.bucket, dropped.key, upload_identity(dropped.version_id, dropped.etag))
    request = InferenceRequested(
        run_id=run_id, model_name=model_name, mode="quality", scheduled_for=dropped.event_time,
        catalogue_uri=f"s3://{dropped.bucket}/{dropped.key}",
    )
    return StartInference(run_id=run_id, request=request)


def _is_model_name(name: str) -> bool:
    try:
        _MODEL_NAMES.validate_python(name)
    except ValidationError:
        return False
    return True


def crash_report(dropped: DroppedObject, error: Exception) -> tuple[str, dict[str, Any]]:
    """(key, report) of an upload the trigger failed on for a reason of its own: `submit` and `local drop` read it and
    stop waiting for a run. Lambda retries the event, and the failure alert follows when the retries fail too."""
    return dropped.key + ERROR_REPORT_SUFFIX, {
        "config": dropped.ref.uri,
        "version_id": dropped.version_id,
        "etag": dropped.etag,
        "failed_at": dropped.event_time.isoformat(),
        "trigger_failed": f"{type(error).__name__}: {error}"[:2000],
        "problems": [],
        "what_to_do": "This is no fault of the file: Lambda tries the upload twice more, and the failures' alert "
        "names the cause if those fail too. `mlrelay runs list` shows the run if a retry started it.",
    }


def rejection(dropped: DroppedObject, problems: list[ConfigProblem], workflow: str) -> RejectConfig:
    report_key = dropped.key + ERROR_REPORT_SUFFIX
    entries = [ProblemEntry(path=p.path, message=p.message) for p in problems]
    report = {
        "config": dropped.ref.uri,
        "version_id": dropped.version_id,
        "etag": dropped.etag,
        "rejected_at": dropped.event_time.isoformat(),
        "problems": [e.model_dump() for e in entries],
        "what_to_do": "Fix the fields listed under problems and upload the file again; "
        "`mlrelay config validate FILE` runs the same checks locally.",
    }
    message = ConfigRejected(
        workflow=workflow,
        config=dropped.ref,
        problems=entries[:MAX_PROBLEMS_IN_MESSAGE],
        problem_count=len(entries),
        report_uri=f"s3://{dropped.bucket}/{report_key}",
        occurred_at=dropped.event_time,
    )
    return RejectConfig(report_key=report_key, report=report, message=message)
