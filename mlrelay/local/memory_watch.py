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
    """VmRSS of `pid` and all its descendants; 0 for a process that has ended."""
    total = 0
    for process in process_tree(pid):
        try:
            for line in (PROC / str(process) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in (PROC / str(current) / "task").glob("*/children"):
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
