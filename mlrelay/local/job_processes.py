"""The processes of the jobs a stack runs: known while they run, so that a stop ends them, and written down, so
that a start after a killed stack (SIGKILL leaves its jobs running, their parent gone) can end them.

A process is named by its pid and its start time (/proc/<pid>/stat), so a later process that reuses the pid
is never taken for it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mlrelay.local.memory_watch import PROC, process_tree

WORK_DIR_PREFIX = "mlrelay-sagemaker-"  # tempfile.mkdtemp's prefix for a stack's work folder
_lock = threading.Lock()
_running: dict[int, str] = {}  # pid -> its start time
_listeners: list[Callable[[dict[int, str]], None]] = []
_stopping = threading.Event()  # set while a stack ends its jobs: a job that ends now was stopped, and none starts


def begin() -> None:
    """A stack starts: jobs may run (again)."""
    _stopping.clear()


def stopping() -> bool:
    return _stopping.is_set()


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields from the state on ([] where there is no /proc, or no such process)."""
    try:
        # the command name (field 2) may hold spaces and parentheses: count fields after its closing one
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return []


def started_at(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where there is no /proc, or no such process)."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


@contextmanager
def tracked(pid: int) -> Iterator[None]:
    """While the block runs, `pid` is one of the stack's jobs; one that starts while the stack stops is ended at once."""
    if pid <= 0:
        raise ValueError(f"not a job's process id: {pid}")  # 0 or less would signal a whole process group
    with _lock:
        _running[pid] = started_at(pid)
        _notify()
        if _stopping.is_set():
            _signal(list(reversed(process_tree(pid))), signal.SIGKILL)
    try:
        yield
    finally:
        with _lock:
            _running.pop(pid, None)
            _notify()


def stop_all(grace_seconds: float) -> int:
    """SIGTERM every running job (with its children), SIGKILL what is left after the grace period; how many there were.
    From now on until the next begin(), no job starts."""
    with _lock:  # with tracked()'s check: a job is either listed here or ended as it starts
        _stopping.set()
        pids = list(_running)
    trees = [list(reversed(process_tree(pid))) for pid in pids]
    for tree in trees:
        _signal(tree, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(alive(pid) for tree in trees for pid in tree):
        time.sleep(0.05)
    for tree in trees:
        _signal(tree, signal.SIGKILL)
    return len(pids)


@contextmanager
def recorded_in(path: Path, stack_pid: int, work_dir: Path) -> Iterator[None]:
    """While the stack runs, `path` says who it is, where it works and which jobs run; removed when it stops."""
    def write(running: dict[int, str]) -> None:
        document = {"stack_pid": stack_pid, "stack_started_at": started_at(stack_pid), "work_dir": str(work_dir),
                    "jobs": {str(pid): start for pid, start in running.items()}}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document))
        temporary.replace(path)  # a reader never sees half a file

    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        _listeners.append(write)
        write(dict(_running))
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(write)
        path.unlink(missing_ok=True)


def clean_leftovers(path: Path) -> list[str]:
    """What a stack that did not stop left (its jobs, its work folder), ended and removed; one line each."""
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text())
    except ValueError:
        path.unlink(missing_ok=True)
        return [f"removed {path}, which a stack left unreadable"]
    stack_pid = int(document["stack_pid"])
    if alive(stack_pid) and started_at(stack_pid) == document.get("stack_started_at"):
        return []  # that stack still runs: its jobs are its own
    done = []
    for pid, start in document.get("jobs", {}).items():
        # only the process recorded: same pid and same start time (without /proc there is no telling, so nothing)
        if start and alive(int(pid)) and started_at(int(pid)) == start:
            _signal(list(reversed(process_tree(int(pid)))), signal.SIGKILL)
            done.append(f"ended job process {pid}, left running by a stack that did not stop (pid {stack_pid})")
    work_dir = Path(document.get("work_dir", ""))
    # only a folder the stack made itself (tempfile's, with its prefix): the file must not be able to name any other
    if work_dir.name.startswith(WORK_DIR_PREFIX) and work_dir.parent == Path(tempfile.gettempdir()) and work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
        done.append(f"removed its work folder {work_dir}")
    path.unlink(missing_ok=True)
    return done


def signal_tree(pid: int, signal_number: int) -> None:
    """The process and every process it started, children first (a job's joblib or DataLoader workers too)."""
    if pid <= 0:
        raise ValueError(f"not a job's process id: {pid}")  # 0 or less would signal a whole process group
    _signal(list(reversed(process_tree(pid))), signal_number)


def _notify() -> None:
    for listener in _listeners:
        listener(dict(_running))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _stat(pid)[:1] != ["Z"]  # a zombie has ended: only its parent's wait is missing


def _signal(pids: list[int], signal_number: int) -> None:
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal_number)
