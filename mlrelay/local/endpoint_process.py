"""One production variant's container: its model and code staged as SageMaker does, and its warm host process.

The model data is read with the model's execution role (SageMaker reads it
with the role passed to CreateModel); the code comes from
SAGEMAKER_SUBMIT_DIRECTORY, or, for PyTorch, from the model's code/ folder;
the host runs in the image's Python environment, as a batch transform does
(mlrelay/local/sagemaker_jobs.py `run_transform`). Its pid is tracked with the
stack's jobs, so a stop, or the start after a killed stack, ends it.
"""

from __future__ import annotations

import hashlib
import os
import select
import subprocess
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mlrelay.local import job_processes
from mlrelay.local.endpoint_host import read_frame, write_frame
from mlrelay.local.sagemaker_jobs import JobFailedError, _failure_reason, extract, image_libraries
from mlrelay.local.user_env import ImageEnvironmentError, RequirementsError, environment_for

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_SECONDS = 600  # a variant's container must answer its health check within this (model_fn's time)


class HostLoadError(RuntimeError):
    """The container could not start: the model, the code or its environment; the message says which line failed."""


class HostTimeoutError(RuntimeError):
    """The request ran past the invocation timeout; the host was ended (the next request starts a fresh one)."""


class HostRequestError(RuntimeError):
    """The user's code raised while serving one request; `line` is the exception line, `loading` whether model_fn did."""

    def __init__(self, line: str, loading: bool):
        super().__init__(line)
        self.line, self.loading = line, loading


@dataclass(frozen=True)
class ModelSpec:
    """What CreateModel said about a model (its PrimaryContainer and role)."""

    name: str
    image: str
    model_data_url: str
    environment: dict[str, str] = field(default_factory=dict)
    role_arn: str = ""
    multi_model: bool = False


@dataclass(frozen=True)
class Staged:
    python: str
    framework: str
    code_dir: Path
    model_dir: Path | None  # None for a multi-model endpoint: each target is staged on its first request


def stage(spec: ModelSpec, directory: Path, s3: Any, log_path: Path) -> Staged:
    """The model and code in `directory` (standing in for /opt/ml), and the interpreter to serve them with."""
    try:
        image = image_libraries(spec.image, "real-time endpoints")
    except JobFailedError as err:
        raise HostLoadError(str(err)) from err
    model_dir, code_dir = directory / "opt/ml/model", directory / "opt/ml/code"
    submit = spec.environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    if not spec.multi_model:
        _download(s3, spec.model_data_url, model_dir, "model data")
    if submit.startswith("s3://"):
        _download(s3, submit, code_dir, "the code bundle (SAGEMAKER_SUBMIT_DIRECTORY)")
    elif image.framework == "pytorch" or submit.startswith("/opt/ml/model"):
        code_dir = model_dir / (submit.removeprefix("/opt/ml/model").strip("/") or "code")
        code_dir.mkdir(parents=True, exist_ok=True)
    else:
        raise HostLoadError(f"the model {spec.name} names no code: set SAGEMAKER_SUBMIT_DIRECTORY in its PrimaryContainer "
                            "Environment to the S3 URI of the code bundle (sourcedir.tar.gz)")
    try:
        python = environment_for(code_dir, log_path, image).python
    except (ImageEnvironmentError, RequirementsError) as err:
        raise HostLoadError(f"{err}; `mlrelay local envs` builds the image's environment") from err
    return Staged(python, image.framework, code_dir, None if spec.multi_model else model_dir)


def _download(s3: Any, uri: str, target: Path, what: str) -> None:
    try:
        extract(s3, uri, target)
    except JobFailedError as err:  # the role may not read it (mlrelay/local/emulated/iam.py says so)
        raise HostLoadError(str(err)) from err
    except Exception as err:  # S3's answer for a missing object, or an archive that is not one
        raise HostLoadError(f'Failed to download {what} for container "container_1" from URL: "{uri}". Please ensure that '
                            "there is an object located at the URL and that the role passed to CreateModel has permissions "
                            f"to download the object ({type(err).__name__}: {err})") from err


def stage_target(prefix: str, target: str, directory: Path, s3: Any) -> Path:
    """A multi-model endpoint's target (prefix + TargetModel, a model.tar.gz) extracted in its own folder."""
    folder = directory / "targets" / hashlib.sha256(target.encode()).hexdigest()[:16]
    if not (folder / ".staged").exists():
        extract(s3, prefix.rstrip("/") + "/" + target.lstrip("/"), folder)
        (folder / ".staged").touch()
    return folder


class HostProcess:
    """The warm host of one variant: one request at a time, as one model server worker serves them."""

    def __init__(self, staged: Staged, program: str, environment: dict[str, str], directory: Path, log_path: Path):
        self._staged, self._program, self._directory, self._log_path = staged, program, directory, log_path
        self._environment = environment
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._tracking = ExitStack()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout_seconds: float = LOAD_TIMEOUT_SECONDS) -> None:
        """Start the host and wait for its model to load; HostLoadError naming the user's failing line otherwise."""
        with self._lock:
            self._start(timeout_seconds)

    def _start(self, timeout_seconds: float) -> None:
        staged = self._staged
        command = [staged.python, "-m", "mlrelay.local.endpoint_host", "--framework", staged.framework,
                   "--code-dir", str(staged.code_dir), "--program", self._program,
                   "--model-dir", str(staged.model_dir or "")]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self._directory), "PYTHONUNBUFFERED": "1",
               **self._environment, "PYTHONPATH": str(PROJECT_ROOT), "SAGEMAKER_BASE_DIR": str(self._directory / "opt/ml")}
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("a") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                             cwd=self._directory, env=env)
        self._tracking.enter_context(job_processes.tracked(self._process.pid))
        try:
            ready, _ = self._answer(timeout_seconds)
        except HostTimeoutError as err:
            raise HostLoadError(f"the container did not answer its health check within {timeout_seconds:.0f} s "
                                "(model_fn still loading)") from err
        if not ready.get("ok"):
            self._end()
            reason = _failure_reason(ready.get("error", ""), 1, None, staged.code_dir).removeprefix("AlgorithmError: ")
            raise HostLoadError(reason.replace(str(self._directory), ""))

    def request(self, meta: dict[str, Any], body: bytes, timeout_seconds: float) -> tuple[dict[str, Any], bytes]:
        """The host's answer (meta, body); a host that ended (a crash, a timeout) is started again first."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._end()
                self._start(LOAD_TIMEOUT_SECONDS)
            assert self._process is not None and self._process.stdin is not None
            try:
                write_frame(self._process.stdin, meta, body)
                answer, output = self._answer(timeout_seconds)
            except BrokenPipeError as err:
                self._end()
                raise HostRequestError(f"the container exited (see {self._log_path})", loading=False) from err
        if not answer.get("ok"):
            lines = [line for line in str(answer.get("error", "")).strip().splitlines() if line.strip()]
            raise HostRequestError(lines[-1].strip() if lines else "unknown error", answer.get("phase") == "load")
        return answer, output

    def _answer(self, timeout_seconds: float) -> tuple[dict[str, Any], bytes]:
        """The next frame from the host, within the timeout (the host is ended past it)."""
        assert self._process is not None and self._process.stdout is not None
        stdout: IO[bytes] = self._process.stdout
        ready, _, _ = select.select([stdout], [], [], timeout_seconds)
        if not ready:
            self._end()
            raise HostTimeoutError(f"no answer within {timeout_seconds:g} s")
        frame = read_frame(stdout)  # the frame follows at once once it begins: the host writes it whole
        if frame is None:
            code = self._process.wait()
            self._end()
            return {"ok": False, "error": f"the container exited with code {code}: see {self._log_path}"}, b""
        return frame

    def stop(self) -> None:
        with self._lock:
            self._end()

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            job_processes.signal_tree(process.pid, 15)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                job_processes.signal_tree(process.pid, 9)
                process.wait()
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        self._tracking.close()

