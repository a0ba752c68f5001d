"""A local job held to its instance type's memory, as the instance's memory holds a SageMaker job.

The job's resident memory (with its child processes') is read from /proc every tenth of a second; over the
limit, the job is killed, as the kernel's out-of-memory killer ends a container's process. Where there is no
/proc (macOS), nothing is watched and the step's log says so.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

PROC = Path("/proc")
POLL_SECONDS = 0.1


def available() -> bool:
    return (PROC / "self" / "status").exists()


def resident_bytes(pid: int) -> int:
    """The memory `pid` and all its descendants hold: each one's proportional share (Pss, so pages the processes
    share, e.g. a warm fork's preloaded libraries, count once in all), or VmRSS where smaps_rollup is missing."""
    total = 0
    for process in process_tree(pid):
        for source, field in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
            try:
                line = next((line for line in (PROC / str(process) / source).read_text().splitlines() if line.startswith(field)), "")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if line:
                total += int(line.split()[1]) * 1024
                break
    return total


def process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:  # a process may end while it is read: it then has no children
            tasks = list((PROC / str(current) / "task").glob("*/children"))
        except (FileNotFoundError, ProcessLookupError):
            continue
        for task in tasks:
            try:
                pending.extend(int(child) for child in task.read_text().split())
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return found


class MemoryWatch:
    """While open, kills the process tree of `pid` once it holds more than `limit_bytes`; `exceeded` says if it did."""

    def __init__(self, pid: int, limit_bytes: int | None):
        self.pid, self.limit_bytes = pid, limit_bytes
        self.exceeded = False
        self.peak_bytes = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"memory-watch-{pid}", daemon=True)

    def __enter__(self) -> MemoryWatch:
        if self.limit_bytes is not None and available():
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        assert self.limit_bytes is not None
        while not self._done.wait(POLL_SECONDS):
            used = resident_bytes(self.pid)
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.limit_bytes:
                self.exceeded = True
                for process in reversed(process_tree(self.pid)):
                    try:
                        os.kill(process, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                return
