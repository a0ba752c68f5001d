"""SageMaker jobs run as local processes, following the containers' contract.

Each job gets its own directory standing in for the container's filesystem:
"/opt/ml/..." in arguments and paths maps to "<job dir>/opt/ml/...". Inputs
are staged from S3 (the emulator) and outputs uploaded back, as SageMaker
does. A training or transform job's code runs with the libraries of the image
it names, in a cached environment of that image's pinned versions with the
bundle's requirements.txt on top (mlrelay/local/user_env.py); scikit-learn,
XGBoost and PyTorch code runs here, other images' jobs fail saying they run on
AWS. mlrelay's processing scripts run with this interpreter.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from chalicelib.config.instances import INSTANCE_TYPES
from mlrelay.local import job_processes, warm_python
from mlrelay.local.image_libraries import ImageLibraries, UnrunnableImageError, libraries_for
from mlrelay.local.memory_watch import MemoryWatch
from mlrelay.local.user_env import ImageEnvironmentError, RequirementsError, environment_for

CONTAINER_ROOT = "/opt/ml/"
FAILURE_REASON_CHARS = 1024  # SageMaker cuts FailureReason at 1,024 characters
# One PUT per file: the emulator takes a part upload's parts one request at a time, so parts only add requests.
_WHOLE_OBJECTS = TransferConfig(multipart_threshold=5 * 1024**3)


STOP_GRACE_SECONDS = 120  # SageMaker sends SIGTERM at the maximum runtime and ends the job 120 s later


class JobFailedError(RuntimeError):
    """The job's script failed; the message is what SageMaker would report."""


def stopped_with_the_stack() -> JobFailedError:
    return JobFailedError("Stopped: the embedded stack stopped while the job ran; resume the run once a stack is up again "
                          "(`mlrelay runs resume RUN`)")


@dataclass(frozen=True)
class Limits:
    """StoppingCondition.MaxRuntimeInSeconds, enforced on a clock `time_scale` times real time (tests run faster),
    and the memory of the job's instance type."""

    max_runtime_seconds: int | None = None
    time_scale: float = 1.0
    kind: str = "Training"  # what the stop message calls the job
    instance_type: str = ""
    memory_bytes: int | None = None

    @classmethod
    def of(cls, arguments: dict[str, Any], kind: str, time_scale: float = 1.0) -> Limits:
        seconds = arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
        instance_type = str(
            arguments.get("ResourceConfig", {}).get("InstanceType")
            or arguments.get("ProcessingResources", {}).get("ClusterConfig", {}).get("InstanceType")
            or arguments.get("TransformResources", {}).get("InstanceType") or ""
        )
        instance = INSTANCE_TYPES.get(instance_type)
        memory = instance.memory_gib * 1024**3 if instance else None
        return cls(int(seconds) if seconds else None, time_scale, kind, instance_type, memory)

    @property
    def wait_seconds(self) -> float | None:
        return None if self.max_runtime_seconds is None else self.max_runtime_seconds * self.time_scale

    @property
    def grace_seconds(self) -> float:
        return STOP_GRACE_SECONDS * self.time_scale

    def out_of_memory(self) -> JobFailedError:
        gib = (self.memory_bytes or 0) / 1024**3
        return JobFailedError(f"OutOfMemory: Please use an instance type with more memory, or reduce the size of the data "
                              f"processed on an instance: the job used more than the {gib:g} GiB of an {self.instance_type} "
                              "and was ended")

    def exceeded(self) -> JobFailedError:
        return JobFailedError(f"MaxRuntimeExceeded: {self.kind} job reached the maximum runtime of {self.max_runtime_seconds} "
                              "seconds (StoppingCondition.MaxRuntimeInSeconds) and was stopped")


@dataclass(frozen=True)
class JobContext:
    s3: Any  # a boto3 S3 client, or a JobStorage over one
    directory: Path  # stands in for the container's root
    log_path: Path
    aws_environment: dict[str, str] = field(default_factory=dict)  # the execution role's credentials and endpoint
    limits: Limits = Limits()


def run_processing(job: JobContext, arguments: dict[str, Any]) -> None:
    for entry in arguments.get("ProcessingInputs", []):
        s3_input = entry["S3Input"]
        stage = download_manifest if s3_input.get("S3DataType") == "ManifestFile" else download
        stage(job.s3, s3_input["S3Uri"], _local(job, s3_input["LocalPath"]))
    spec = arguments["AppSpecification"]
    command = [*spec.get("ContainerEntrypoint", []), *spec.get("ContainerArguments", [])]
    # the job's Environment, as SageMaker sets it in the container
    _run(job, [_interpreter(command[0]), *(_map(job, str(a)) for a in command[1:])], env=dict(arguments.get("Environment", {})))
    for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        s3_output = output["S3Output"]
        upload(job.s3, _local(job, s3_output["LocalPath"]), s3_output["S3Uri"])


def run_training(job: JobContext, arguments: dict[str, Any], job_name: str) -> str:
    """Run a script-mode training job as the framework containers do; returns the S3 URI of model.tar.gz.

    The contract (aws/sagemaker-training-toolkit): the code bundle extracted to
    /opt/ml/code, its requirements.txt installed, each channel under
    /opt/ml/input/data/<channel>, hyperparameters as --name value arguments and
    in SM_HPS / SM_HP_<NAME>, the SM_* variables, and /opt/ml/model packed as
    model.tar.gz afterwards (/opt/ml/output/data as output.tar.gz).
    """
    image = image_libraries(arguments["AlgorithmSpecification"]["TrainingImage"], "training")
    encoded = arguments.get("HyperParameters", {})
    hyperparameters = {k: _decoded(v) for k, v in encoded.items()}
    code_dir = _local(job, "/opt/ml/code")
    extract(job.s3, hyperparameters["sagemaker_submit_directory"], code_dir)
    config_dir = _local(job, "/opt/ml/input/config")
    channels = []
    for channel in arguments.get("InputDataConfig", []):
        name = channel["ChannelName"]
        download(job.s3, channel["DataSource"]["S3DataSource"]["S3Uri"], _local(job, f"/opt/ml/input/data/{name}"))
        channels.append(name)
    user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    program = str(hyperparameters["sagemaker_program"])
    resources = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
    (config_dir / "hyperparameters.json").write_text(json.dumps(encoded))
    (config_dir / "resourceconfig.json").write_text(json.dumps(resources))
    (config_dir / "inputdataconfig.json").write_text(json.dumps({c["ChannelName"]: {"ContentType": c.get("ContentType", "")}
                                                                   for c in arguments.get("InputDataConfig", [])}))
    args = to_cmd_args(user)
    env = {
        **arguments.get("Environment", {}),  # the job's own variables, as SageMaker sets them in the container
        "SAGEMAKER_BASE_DIR": str(_local(job, "/opt/ml")),  # the toolkits' /opt/ml, where training_env() reads
        "SM_MODEL_DIR": str(_local(job, "/opt/ml/model")), "SM_OUTPUT_DATA_DIR": str(_local(job, "/opt/ml/output/data")),
        "SM_OUTPUT_DIR": str(_local(job, "/opt/ml/output")), "SM_INPUT_DIR": str(_local(job, "/opt/ml/input")),
        "SM_INPUT_CONFIG_DIR": str(config_dir), "SM_OUTPUT_INTERMEDIATE_DIR": str(_local(job, "/opt/ml/output/intermediate")),
        "SM_CHANNELS": json.dumps(sorted(channels)), "SM_HPS": json.dumps(user), "SM_USER_ARGS": json.dumps(args),
        "SM_CURRENT_HOST": "algo-1", "SM_HOSTS": json.dumps(["algo-1"]), "SM_NUM_GPUS": "0", "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NETWORK_INTERFACE_NAME": "eth0", "SM_LOG_LEVEL": str(hyperparameters.get("sagemaker_container_log_level", 20)),
        "SM_MODULE_NAME": program.removesuffix(".py").replace("/", "."), "SM_USER_ENTRY_POINT": program,
        "SM_MODULE_DIR": str(hyperparameters["sagemaker_submit_directory"]), "SM_RESOURCE_CONFIG": json.dumps(resources),
        "SM_TRAINING_ENV": json.dumps({"hyperparameters": user, "channel_input_dirs": {
            c: str(_local(job, f"/opt/ml/input/data/{c}")) for c in channels}, "job_name": job_name}),
        **{f"SM_CHANNEL_{c.upper()}": str(_local(job, f"/opt/ml/input/data/{c}")) for c in channels},
        **{f"SM_HP_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in user.items()},
    }
    python = _python_for(job, code_dir, image)
    _run(job, [python, str(code_dir / program), *args], env=env, cwd=code_dir, code_dir=code_dir)
    output_path = f"{arguments['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output"
    model_uri = f"{output_path}/model.tar.gz"
    put_file(job.s3, _pack(_local(job, "/opt/ml/model"), job.directory / "model.tar.gz"), model_uri)
    if any(_local(job, "/opt/ml/output/data").iterdir()):
        put_file(job.s3, _pack(_local(job, "/opt/ml/output/data"), job.directory / "output.tar.gz"), f"{output_path}/output.tar.gz")
    return model_uri


def run_transform(job: JobContext, arguments: dict[str, Any], model: dict[str, Any]) -> None:
    container = model["PrimaryContainer"]
    image = image_libraries(container["Image"], "batch transform")
    environment = container.get("Environment", {})
    model_dir, code_dir = _local(job, "/opt/ml/model"), _local(job, "/opt/ml/code")
    extract(job.s3, container["ModelDataUrl"], model_dir)
    if image.framework == "pytorch":  # its serving toolkit reads the code from the model's code/, not the submitted bundle
        code_dir = model_dir / "code"
        code_dir.mkdir(exist_ok=True)
    else:
        extract(job.s3, environment["SAGEMAKER_SUBMIT_DIRECTORY"], code_dir)
    transform_input, transform_output = arguments["TransformInput"], arguments["TransformOutput"]
    input_dir, output_dir = job.directory / "input", job.directory / "output"
    download(job.s3, transform_input["DataSource"]["S3DataSource"]["S3Uri"], input_dir)
    command = [
        _python_for(job, code_dir, image), "-m", "mlrelay.local.transform_host", "--framework", image.framework,
        "--code-dir", str(code_dir), "--program", environment["SAGEMAKER_PROGRAM"], "--model-dir", str(model_dir),
        "--input-dir", str(input_dir), "--output-dir", str(output_dir),
        "--content-type", transform_input.get("ContentType", "text/csv"),
        "--accept", transform_output.get("Accept", "text/csv"),
        "--split-type", transform_input.get("SplitType", "None"),
    ]
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "SAGEMAKER_BASE_DIR": str(_local(job, "/opt/ml"))}
    _run(job, command, env=env, code_dir=code_dir)
    upload(job.s3, output_dir, transform_output["S3OutputPath"])


def image_libraries(image: str, what: str) -> ImageLibraries:
    """The libraries the job's image brings; the images this machine cannot run are said plainly (they run on AWS)."""
    try:
        return libraries_for(image)
    except UnrunnableImageError as err:
        raise JobFailedError(f"LocalRunnerError: the embedded stack runs {what} for scikit-learn, XGBoost and PyTorch "
                             f"code; {err}") from err


def to_cmd_args(hyperparameters: dict[str, Any]) -> list[str]:
    """As the training toolkit passes them: sorted, --name value (-n for one letter), mappings as k=v,k2=v2."""
    args = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        args.append(f"--{name}" if len(name) > 1 else f"-{name}")
        args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())) if isinstance(value, dict) else str(value))
    return args


def _python_for(job: JobContext, code_dir: Path, image: ImageLibraries) -> str:
    try:
        environment = environment_for(code_dir, job.log_path, image)
    except ImageEnvironmentError as err:  # this machine's doing (PyPI out of reach, a disk full), not the code's
        raise JobFailedError(f"LocalRunnerError: {err}; `mlrelay local envs` builds it again") from err
    except RequirementsError as err:
        raise JobFailedError(f"ClientError: {err}") from err
    with job.log_path.open("a") as log:
        built = f"the {image.name} image's libraries built, " if environment.image_built else ""
        log.write(f"python: {environment.python} ({built}{'installed' if environment.installed else 'cached'}, "
                  f"{environment.seconds:.1f}s)\n")
    return environment.python


def _pack(source: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as packed:
        for path in sorted(source.rglob("*")):
            packed.add(path, arcname=str(path.relative_to(source)))
    return archive


# --- S3 staging ------------------------------------------------------------


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class JobStorage:
    """The S3 a job stages its inputs and outputs through: listings and uploads by the API (so versions and
    events are S3's), reads straight from the emulator's store when the stack can serve them, which is the
    difference between seconds and a fraction of one for a million-row catalogue."""

    def __init__(
        self, client: Any, read_object: Callable[[str, str], bytes] | None = None,
        may_read: Callable[[str, str], None] = lambda bucket, key: None,
    ):
        # may_read raises as S3 would refuse the job's role: reads from the store skip the API's check
        self._client, self._read_object, self._may_read = client, read_object, may_read

    def get_paginator(self, operation: str) -> Any:
        return self._client.get_paginator(operation)

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        if self._read_object is not None:
            try:
                self._may_read(bucket, key)
                Path(filename).write_bytes(self._read_object(bucket, key))
                return
            except KeyError:
                pass  # let the API say what is missing, as it would on AWS
        self._client.download_file(bucket, key, filename)

    def upload_file(self, filename: str, bucket: str, key: str) -> None:
        self._client.upload_file(filename, bucket, key, Config=_WHOLE_OBJECTS)


def download(s3: Any, uri: str, target: Path) -> None:
    """Stage an S3Prefix input: every object under the prefix, paths kept."""
    bucket, prefix = _split(uri)
    found = False
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix):].lstrip("/") or item["Key"].rsplit("/", 1)[-1]
            destination = staged_path(target, relative, f"s3://{bucket}/{item['Key']}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(destination))
            found = True
    if not found:
        raise JobFailedError(f"ClientError: no S3 objects found under {uri}")


def staged_path(target: Path, relative: str, uri: str) -> Path:
    """Where an object is staged in the job's folder; a key that would land outside it fails the step, naming it."""
    parts = relative.replace("\\", "/").split("/")
    destination = (target / relative).resolve()
    if relative.startswith("/") or ".." in parts or not destination.is_relative_to(target.resolve()):
        raise JobFailedError(f"ClientError: the object {uri} would be staged outside the job's input folder "
                             f"({target.name}): rename it without '..' or a leading '/'")
    return destination


def download_manifest(s3: Any, uri: str, target: Path) -> None:
    """Stage a ManifestFile input: [{"prefix": "s3://b/p/"}, "relative/key", ...], each object at its relative path."""
    manifest_path = target.with_name(target.name + ".manifest")
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    bucket, key = _split(uri)
    s3.download_file(bucket, key, str(manifest_path))
    head, *relative_keys = json.loads(manifest_path.read_text())
    prefix_bucket, prefix = _split(head["prefix"])
    if not relative_keys:
        raise JobFailedError(f"ClientError: the manifest {uri} lists no objects")
    for relative in relative_keys:
        destination = staged_path(target, relative, f"s3://{prefix_bucket}/{prefix}{relative}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(prefix_bucket, prefix + relative, str(destination))


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


def _run(job: JobContext, command: list[str], env: dict[str, str], cwd: Path | None = None, code_dir: Path | None = None) -> None:
    """Run one of the job's processes; `code_dir`: the user's code, whose line an error is placed at."""
    job.log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(job.directory), "PYTHONUNBUFFERED": "1", **job.aws_environment, **env,
    }
    with job.log_path.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
    if job_processes.stopping():
        raise _ended(job, stopped_with_the_stack())
    stderr_path = job.directory / "stderr.txt"
    stderr_path.unlink(missing_ok=True)
    try:
        returncode = _process(job, command, environment, cwd or job.directory, stderr_path)
    finally:  # a stopped or killed job's stderr (its traceback, its logging) is the part people need
        stderr = stderr_path.read_text(errors="replace") if stderr_path.exists() else ""
        with job.log_path.open("a") as log:
            log.write(stderr)
    if job_processes.stopping():  # ended by the stack's stop, not by its own doing
        raise _ended(job, stopped_with_the_stack())
    if returncode != 0:
        reason = _failure_reason(stderr, returncode, job.directory / "opt/ml/output/failure", code_dir)
        raise JobFailedError(reason.replace(str(job.directory), ""))  # paths as the container has them


def _process(job: JobContext, command: list[str], environment: dict[str, str], cwd: Path, stderr_path: Path) -> int:
    """The job's exit code, warm when it runs on this interpreter; a JobFailedError when a limit or the stack ended it."""
    limits = job.limits
    if command[0] == sys.executable and warm_python.available():  # this interpreter: start warm
        try:
            returncode = warm_python.run(command[1:], cwd, environment, job.log_path, stderr_path,
                                         limits.wait_seconds, limits.grace_seconds, limits.memory_bytes)
        except warm_python.StoppedError as stopped:
            raise _stopped(job, limits) from stopped
        except warm_python.OutOfMemoryError as killed:
            raise _ended(job, limits.out_of_memory()) from killed
        if returncode is not None:
            return returncode
        if job_processes.stopping():
            raise _ended(job, stopped_with_the_stack())
        with job.log_path.open("a") as log:
            log.write("the warm interpreter did not run the job to its end; running it in a fresh one\n")
    with job.log_path.open("a") as log, stderr_path.open("w") as errors:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log, stderr=errors)
        with job_processes.tracked(process.pid), MemoryWatch(process.pid, limits.memory_bytes) as memory:
            try:
                returncode = process.wait(limits.wait_seconds)
            except subprocess.TimeoutExpired as expired:
                _stop(process, limits.grace_seconds)
                raise _stopped(job, limits) from expired
    if memory.exceeded:
        raise _ended(job, limits.out_of_memory())
    return returncode


def _stop(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """As SageMaker stops a job: SIGTERM, and the end after the grace period (its own processes with it)."""
    job_processes.signal_tree(process.pid, signal.SIGTERM)
    try:
        process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        job_processes.signal_tree(process.pid, signal.SIGKILL)
        process.wait()


def _stopped(job: JobContext, limits: Limits) -> JobFailedError:
    return _ended(job, limits.exceeded())


def _ended(job: JobContext, error: JobFailedError) -> JobFailedError:
    """The error, also written to the step's log."""
    with job.log_path.open("a") as log:
        log.write(f"{error}\n")
    return error


def _failure_reason(stderr: str, returncode: int, failure_file: Path | None = None, code_dir: Path | None = None) -> str:
    """What SageMaker reports: the job's /opt/ml/output/failure when its code wrote one (the training toolkit's
    contract), else what the code's error said. The last exception of a traceback, with the one it was handling when
    that one is a different error (a script whose own error handler failed hides the cause otherwise); a line of a
    native crash's backtrace is no reason, the exception or message before it is. The deepest frame in the user's
    `code_dir` says where (SageMaker's reason quotes the traceback, frames and all)."""
    written = failure_file.read_text(errors="replace").strip() if failure_file and failure_file.is_file() else ""
    if written:
        return f"AlgorithmError: {written}"[:FAILURE_REASON_CHARS]
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    exceptions = [line.strip() for line in lines if _EXCEPTION_LINE.match(line)]
    if exceptions:
        detail = exceptions[-1]
        if exceptions[0] != detail and _CHAINED in stderr:
            detail = f"{detail} (raised while the code was handling {exceptions[0]})"
        elif exceptions[0] != detail and _CAUSED in stderr:
            detail = f"{detail} (caused by {exceptions[0]})"
    else:
        meaningful = [line for line in lines if not _NATIVE_FRAME.search(line)]
        detail = meaningful[-1].strip() if meaningful else f"exit code {returncode}"
    where = _user_frame(lines, code_dir) if exceptions and code_dir else ""
    return f"AlgorithmError: {detail}{where}"[:FAILURE_REASON_CHARS]


def _user_frame(lines: list[str], code_dir: Path) -> str:
    """The last traceback frame in the user's code, as ' (train.py, line 27, in train)'; "" when none is."""
    root = code_dir.resolve()
    for line in reversed(lines):
        frame = _FRAME.match(line)
        if frame:
            path = Path(frame["path"])
            path = (root / path if not path.is_absolute() else path).resolve()
            if path.is_relative_to(root):
                return f" ({path.relative_to(root)}, line {frame['line']}, in {frame['function'].strip()})"
    return ""


# "ValueError: ...", "pandas.errors.ParserError: ...", "SystemExit: ..." at the start of a line, as a traceback ends
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b(: |$)")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')
_CHAINED = "During handling of the above exception, another exception occurred"
_CAUSED = "The above exception was the direct cause of the following exception"
# a frame of a native backtrace: "  File "...", line 1 in <module>", "#3 0x00007f... in", "/usr/lib/libc.so.6(+0x2a1ca)"
_NATIVE_FRAME = re.compile(r"0x[0-9a-f]{6,}|^\s*#\d+\s|\.so(\.\d+)*\(|^\s*File \"|^Current thread|^Thread 0x")


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


