"""Jobs in an image's environment start warm: forked from a server that imported the image's framework once.

The image's interpreter runs mlrelay/local/warm_env_server.py, one server per
environment, which imports numpy, pandas, scikit-learn, XGBoost or torch (what
the image has) and forks a process per job, as mlrelay/local/warm_python.py does
for the stack's own interpreter. The job is what it would be in a subprocess:
its arguments, folder, environment (exactly the job's: the server starts with
almost none), output files and exit code; a time limit, the memory limit and a
stack's stop apply to it by its pid. Only the images' own environments get a
server (a bundle's requirements layer runs cold), kept until the stack's process
ends. A server that cannot answer is ended and the job runs cold, as does a job
whose environment sets a variable read at start-up (OMP_NUM_THREADS, ...).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

from mlrelay.local import job_processes
from mlrelay.local.memory_watch import MemoryWatch
from mlrelay.local.warm_python import OutOfMemoryError, StoppedError

SERVER = Path(__file__).with_name("warm_env_server.py")
PRELOAD = [
    "numpy", "pandas", "scipy.stats", "sklearn.ensemble", "sklearn.linear_model", "sklearn.metrics",
    "sklearn.model_selection", "sklearn.tree", "joblib", "xgboost", "torch",
]
# read when an interpreter starts or a library loads: a job that sets one runs cold, where it takes effect
COLD_VARIABLES = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED", "PYTHONWARNINGS",
                  "PYTHONIOENCODING", "PYTHONOPTIMIZE", "PYTHONDONTWRITEBYTECODE"}
START_SECONDS = 120  # the server's imports (torch's take seconds) before it answers its first job
_lock = threading.Lock()
_servers: dict[str, _Server] = {}


class _Server:
    def __init__(self, python: str):
        # the framework's imports must not read the stack's variables (thread counts, paths): almost none are passed
        environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(  # nosec B603: the environment's own interpreter, the server file
            [python, str(SERVER), *PRELOAD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=environment, text=True,
        )
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def start_job(self, request: dict[str, object]) -> int | None:
        """The job's pid; None when the server does not answer (it is ended, and the job runs cold)."""
        with self.lock:
            try:
                assert self.process.stdin is not None and self.process.stdout is not None  # nosec B101: made with pipes
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
                ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
                reply = self.process.stdout.readline() if ready else ""
                return int(json.loads(reply)["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                self.process.kill()
                return None


def run(
    python: str, arguments: list[str], cwd: Path, env: dict[str, str], stdout_path: Path, stderr_path: Path,
    timeout_seconds: float | None = None, grace_seconds: float = 0, memory_limit_bytes: int | None = None,
) -> int | None:
    """Run `python ARGUMENTS` warm in its environment's server; its exit code, or None when the server could not run
    it (the caller runs it cold). Past `timeout_seconds`: SIGTERM, SIGKILL after `grace_seconds`, and StoppedError;
    over `memory_limit_bytes`: killed, and OutOfMemoryError."""
    if COLD_VARIABLES & set(env):
        return None
    exit_path = stderr_path.with_name(stderr_path.name + ".exit")
    exit_path.unlink(missing_ok=True)
    stderr_path.touch()
    server = _server(python)
    pid = server.start_job({"arguments": arguments, "cwd": str(cwd), "env": env, "stdout": str(stdout_path),
                            "stderr": str(stderr_path), "exit": str(exit_path)})
    if pid is None:
        return None
    started = time.monotonic()
    with job_processes.tracked(pid), MemoryWatch(pid, memory_limit_bytes) as memory:
        # the exit file is the end: the job writes it, or the server does when the job ended otherwise
        while not exit_path.exists() and server.alive():
            if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
                _stop(pid, grace_seconds)
                raise StoppedError(f"stopped after {timeout_seconds:.0f} s")
            time.sleep(0.02)
        while job_processes.alive(pid) and server.alive():  # the job's last moments after writing its code
            time.sleep(0.01)
    if memory.exceeded:
        raise OutOfMemoryError(f"killed over {memory_limit_bytes} bytes")
    try:
        return int(exit_path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _stop(pid: int, grace_seconds: float) -> None:
    job_processes.signal_tree(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while job_processes.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if job_processes.alive(pid):
        job_processes.signal_tree(pid, signal.SIGKILL)
    while job_processes.alive(pid):
        time.sleep(0.01)


def _server(python: str) -> _Server:
    with _lock:
        server = _servers.get(python)
        if server is None or not server.alive():
            server = _servers[python] = _Server(python)
        return server
