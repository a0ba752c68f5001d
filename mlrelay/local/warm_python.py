"""Local jobs that run on this interpreter start warm: forked from a server that imported the scientific stack once.

In SageMaker each job starts a fresh container; locally a fresh interpreter
spends about 1.5 s importing pandas, scikit-learn, scipy and shap, most of a
short step. The standard library's forkserver imports them once; every job is
a new fork of that server, so jobs share those imports and nothing else (no
state passes from one job to the next). The job itself is what it would be in
a subprocess: its arguments, working directory, extra environment and
PYTHONPATH, stdout to its log, and its exit code (a `sys.exit("message")`
prints the message and exits 1, as Python does).
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from mlrelay.local import job_processes
from mlrelay.local.memory_watch import MemoryWatch

PRELOAD = [
    "numpy", "pandas", "scipy.stats", "scipy.spatial.distance", "sklearn.ensemble", "sklearn.metrics",
    "sklearn.model_selection", "sklearn.preprocessing", "joblib", "shap",
]
_lock = threading.Lock()


class StoppedError(RuntimeError):
    """The job ran past its time limit and was stopped (SIGTERM, then SIGKILL after the grace period)."""


class OutOfMemoryError(RuntimeError):
    """The job held more memory than its limit and was killed."""
_context: multiprocessing.context.ForkServerContext | None = None


def available() -> bool:
    return "forkserver" in multiprocessing.get_all_start_methods()


def run(
    arguments: list[str], cwd: Path, env: dict[str, str], stdout_path: Path, stderr_path: Path,
    timeout_seconds: float | None = None, grace_seconds: float = 0, memory_limit_bytes: int | None = None,
) -> int | None:
    """Run `python ARGUMENTS` (a script path, or -m module, then its arguments) warm; returns its exit code.

    None means the warm interpreter did not run the job to its end (the job wrote no exit code, e.g. the
    forkserver went away): the caller runs it cold instead. The job's own exit code comes from the job,
    not from the forkserver's report, which reads 255 when the server's pipe closes early. A job still
    running after `timeout_seconds` is sent SIGTERM, killed after `grace_seconds`, and StoppedError raised; one
    holding more than `memory_limit_bytes` is killed and OutOfMemoryError raised.
    """
    exit_path = stderr_path.with_name(stderr_path.name + ".exit")
    exit_path.unlink(missing_ok=True)
    process = _server().Process(target=_job, args=(arguments, str(cwd), env, str(stdout_path), str(stderr_path), str(exit_path)))
    process.start()
    pid = process.pid
    if pid is None:
        return None
    with job_processes.tracked(pid), MemoryWatch(pid, memory_limit_bytes) as memory:
        process.join(timeout_seconds)
        if process.is_alive():
            job_processes.signal_tree(pid, signal.SIGTERM)
            process.join(grace_seconds)
            if process.is_alive():
                job_processes.signal_tree(pid, signal.SIGKILL)
                process.join()
            raise StoppedError(f"stopped after {timeout_seconds:.0f} s")
    if memory.exceeded:
        raise OutOfMemoryError(f"killed over {memory_limit_bytes} bytes")
    if not exit_path.exists() and process.pid:
        _wait_until_gone(process.pid)  # the server went away early: the job may still be running, orphaned
    try:
        return int(exit_path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _wait_until_gone(pid: int) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:  # the pid is someone else's now: ours has ended
            return
        time.sleep(0.05)


def _server() -> multiprocessing.context.ForkServerContext:
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)  # a library that is not installed is skipped
            _context = context
        return _context


def _job(arguments: list[str], cwd: str, env: dict[str, str], stdout_path: str, stderr_path: str, exit_path: str) -> None:
    """In the fork: become the job's process, run its program as __main__, and record its exit code."""
    for target, path, flags in ((1, stdout_path, os.O_APPEND), (2, stderr_path, os.O_TRUNC)):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | flags)
        os.dup2(descriptor, target)
        os.close(descriptor)
    os.chdir(cwd)
    os.environ.update(env)
    extra_paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    code = 0
    try:
        if arguments[0] == "-m":
            sys.argv = [arguments[1], *arguments[2:]]
            sys.path[:0] = [cwd, *extra_paths]
            runpy.run_module(arguments[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(arguments)
            sys.path[:0] = [str(Path(arguments[0]).parent), *extra_paths]
            runpy.run_path(arguments[0], run_name="__main__")
    except SystemExit as stop:  # as the interpreter does: a number is the code, a message goes to stderr with 1
        if isinstance(stop.code, int):
            code = stop.code
        elif stop.code is not None:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    Path(exit_path).write_text(str(code))
