"""`mlrelay local up` as a process of its own, as a person runs it: the lifecycle and durability tests start, stop
and kill it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlrelay.local.job_processes import alive
from tests.conftest import ROOT


class LocalUp:
    """One `mlrelay local up` process, its state folder, and what it printed."""

    def __init__(self, state_dir: Path):
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_file = state_dir / "local.json"
        self.output = state_dir / f"up-{time.monotonic_ns()}.txt"
        env = {**os.environ, "MLRELAY_STATE_FILE": str(self.state_file)}
        for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)  # its own stack, not this session's
        with self.output.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "mlrelay.cli.main", "local", "up"],
                                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._written, 120, "the state file")

    def _written(self) -> bool:
        """The state file names this process (a stale one from a killed stack may be there first)."""
        try:
            return json.loads(self.state_file.read_text())["pid"] == self.process.pid
        except (FileNotFoundError, ValueError, KeyError):
            return False

    def printed(self) -> str:
        return " ".join(self.output.read_text().split())  # as one line: the console wraps at its width

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a closed laptop lid ends it."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=40)

    def running_job(self, logs: Path, step: str = "Train") -> int:
        """The pid of a step's job (the first to run of that name in this folder), once it runs."""
        wait_for(lambda: list(logs.glob(f"pipelines/*/{step}.log")), 120, f"the {step} step")
        record = self.state_file.with_suffix(".processes.json")
        wait_for(lambda: json.loads(record.read_text())["jobs"], 30, "a recorded job")
        (pid,) = json.loads(record.read_text())["jobs"]
        return int(pid)


@pytest.fixture
def leftovers():
    """Whatever a failing test would leave running: the stacks it started and the jobs it saw."""
    started: list = []
    yield started
    for item in started:
        if isinstance(item, LocalUp) and item.process.poll() is None:
            item.process.kill()
            item.process.wait()
        elif isinstance(item, int) and alive(item):
            os.kill(item, signal.SIGKILL)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"no {what} after {seconds} s")


