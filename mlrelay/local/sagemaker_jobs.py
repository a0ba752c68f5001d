"""SageMaker jobs run as local processes, following the containers' contract.

Each job gets its own directory standing in for the container's filesystem:
"/opt/ml/..." in arguments and paths maps to "<job dir>/opt/ml/...". Inputs
are staged from S3 (the emulator) and outputs uploaded back, as SageMaker
does. The scripts run with this interpreter, which has scikit-learn and
pandas like the scikit-learn containers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTAINER_ROOT = "/opt/ml/"
FAILURE_REASON_CHARS = 1024  # SageMaker cuts FailureReason at 1,024 characters


class JobFailedError(RuntimeError):
    """The job's script failed; the message is what SageMaker would report."""


@dataclass(frozen=True)
class JobContext:
    s3: Any
    directory: Path  # stands in for the container's root
    log_path: Path


def run_processing(job: JobContext, arguments: dict[str, Any]) -> None:
    for entry in arguments.get("ProcessingInputs", []):
        s3_input = entry["S3Input"]
        download(job.s3, s3_input["S3Uri"], _local(job, s3_input["LocalPath"]))
    spec = arguments["AppSpecification"]
    command = [*spec.get("ContainerEntrypoint", []), *spec.get("ContainerArguments", [])]
    _run(job, [_interpreter(command[0]), *(_map(job, str(a)) for a in command[1:])], env={})
    for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        s3_output = output["S3Output"]
        upload(job.s3, _local(job, s3_output["LocalPath"]), s3_output["S3Uri"])


def run_training(job: JobContext, arguments: dict[str, Any], job_name: str) -> str:
    """Run script-mode training; returns the S3 URI of model.tar.gz."""
    hyperparameters = {k: _decoded(v) for k, v in arguments.get("HyperParameters", {}).items()}
    code_dir = _local(job, "/opt/ml/code")
    extract(job.s3, hyperparameters["sagemaker_submit_directory"], code_dir)
    env = {"SM_MODEL_DIR": str(_local(job, "/opt/ml/model")), "SM_OUTPUT_DATA_DIR": str(_local(job, "/opt/ml/output/data"))}
    channels = []
    for channel in arguments.get("InputDataConfig", []):
        name = channel["ChannelName"]
        target = _local(job, f"/opt/ml/input/data/{name}")
        download(job.s3, channel["DataSource"]["S3DataSource"]["S3Uri"], target)
        env[f"SM_CHANNEL_{name.upper()}"] = str(target)
        channels.append(name)
    user_hyperparameters = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    env.update({"SM_CHANNELS": json.dumps(channels), "SM_HPS": json.dumps(user_hyperparameters)})
    # Script mode passes each hyperparameter as --name value.
    flags = [part for k, v in sorted(user_hyperparameters.items()) for part in (f"--{k}", _flag_value(v))]
    _run(job, [sys.executable, str(code_dir / hyperparameters["sagemaker_program"]), *flags], env=env, cwd=code_dir)
    model_uri = f"{arguments['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
    archive = job.directory / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as packed:
        for path in sorted(_local(job, "/opt/ml/model").rglob("*")):
            packed.add(path, arcname=str(path.relative_to(_local(job, "/opt/ml/model"))))
    put_file(job.s3, archive, model_uri)
    return model_uri


def run_transform(job: JobContext, arguments: dict[str, Any], model: dict[str, Any]) -> None:
    container = model["PrimaryContainer"]
    environment = container.get("Environment", {})
    model_dir, code_dir = _local(job, "/opt/ml/model"), _local(job, "/opt/ml/code")
    extract(job.s3, container["ModelDataUrl"], model_dir)
    extract(job.s3, environment["SAGEMAKER_SUBMIT_DIRECTORY"], code_dir)
    transform_input, transform_output = arguments["TransformInput"], arguments["TransformOutput"]
    input_dir, output_dir = job.directory / "input", job.directory / "output"
    download(job.s3, transform_input["DataSource"]["S3DataSource"]["S3Uri"], input_dir)
    command = [
        sys.executable, "-m", "mlrelay.local.transform_host",
        "--code-dir", str(code_dir), "--program", environment["SAGEMAKER_PROGRAM"], "--model-dir", str(model_dir),
        "--input-dir", str(input_dir), "--output-dir", str(output_dir),
        "--content-type", transform_input.get("ContentType", "text/csv"),
        "--accept", transform_output.get("Accept", "text/csv"),
        "--split-type", transform_input.get("SplitType", "None"),
    ]
    _run(job, command, env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    upload(job.s3, output_dir, transform_output["S3OutputPath"])


# --- S3 staging ------------------------------------------------------------


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def download(s3: Any, uri: str, target: Path) -> None:
    """Stage an S3Prefix input: every object under the prefix, paths kept."""
    bucket, prefix = _split(uri)
    found = False
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix):].lstrip("/") or item["Key"].rsplit("/", 1)[-1]
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(destination))
            found = True
    if not found:
        raise JobFailedError(f"ClientError: no S3 objects found under {uri}")


def upload(s3: Any, source: Path, uri: str) -> None:
    bucket, prefix = _split(uri)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"{prefix.rstrip('/')}/{path.relative_to(source)}")


def put_file(s3: Any, path: Path, uri: str) -> None:
    bucket, key = _split(uri)
    s3.upload_file(str(path), bucket, key)


def extract(s3: Any, uri: str, target: Path) -> None:
    archive = target.with_suffix(".download.tar.gz")
    archive.parent.mkdir(parents=True, exist_ok=True)
    bucket, key = _split(uri)
    s3.download_file(bucket, key, str(archive))
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as packed:
        packed.extractall(target, filter="data")


# --- processes -------------------------------------------------------------


def _run(job: JobContext, command: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    job.log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(job.directory), "PYTHONUNBUFFERED": "1", **env}
    with job.log_path.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(
            command, cwd=cwd or job.directory, env=environment, stdout=log, stderr=subprocess.PIPE, text=True
        )
        log.write(result.stderr)
    if result.returncode != 0:
        raise JobFailedError(_failure_reason(result.stderr, result.returncode))


def _failure_reason(stderr: str, returncode: int) -> str:
    # The last line of a traceback (or a sys.exit message) says what went wrong.
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else f"exit code {returncode}"
    return f"AlgorithmError: {detail}"[:FAILURE_REASON_CHARS]


def _interpreter(program: str) -> str:
    return sys.executable if Path(program).name in {"python", "python3"} else program


def _local(job: JobContext, container_path: str) -> Path:
    path = job.directory / container_path.lstrip("/")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _map(job: JobContext, argument: str) -> str:
    return str(job.directory / argument.lstrip("/")) if argument.startswith(CONTAINER_ROOT) else argument


def _decoded(value: str) -> Any:
    # The SDK JSON-encodes hyperparameters it knows at build time ('"train.py"').
    try:
        return json.loads(value)
    except (TypeError, json.JSONDecodeError):
        return value


def _flag_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
