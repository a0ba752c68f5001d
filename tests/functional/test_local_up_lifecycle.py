"""`mlrelay local up` as a person runs it: SIGTERM stops it, jobs and all, within 30 s, its state file last; after a
SIGKILL, the next start ends the job the killed stack left running and removes what it left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlrelay.cli.main import app
from mlrelay.local import memory_watch
from mlrelay.local.job_processes import alive
from tests.conftest import ROOT, valid_config

pytestmark = [pytest.mark.functional, pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")]
CODE = Path(__file__).parent / "code"
runner = CliRunner()


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

    def running_job(self, logs: Path) -> int:
        """The pid of the Train step's job, once it runs."""
        wait_for(lambda: list(logs.glob("pipelines/*/Train.log")), 120, "the Train step")
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


def drop_looping_job(stack: LocalUp, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(stack.state_file))
    folder = tmp_path / "looping"
    shutil.copytree(CODE / "looping", folder, dirs_exist_ok=True)
    # the table: the demo catalogue `local up` puts where the example config's data.uri points
    config = valid_config(model_name="lifecycle", inference={"daily": False, "monthly": False},
                          model={"framework": "sklearn", "entry_point": "train.py", "source_dir": str(folder)})
    path = tmp_path / "lifecycle.json"
    path.write_text(json.dumps(config))
    dropped = runner.invoke(app, ["local", "drop", str(path), "--no-wait"])
    assert dropped.exit_code == 0, dropped.output


def test_sigterm_ends_the_running_job_and_the_stack_within_30_seconds_state_file_last(tmp_path, monkeypatch, leftovers):
    stack = LocalUp(tmp_path / "state")
    leftovers.append(stack)
    drop_looping_job(stack, tmp_path, monkeypatch)
    job = stack.running_job(tmp_path / "state" / "logs")
    leftovers.append(job)

    started = time.monotonic()
    stack.process.send_signal(signal.SIGTERM)
    stack.process.wait(timeout=40)

    assert time.monotonic() - started < 30, stack.printed()
    assert "stack stopped" in stack.printed() and not stack.state_file.exists()
    assert not stack.state_file.with_suffix(".processes.json").exists() and not alive(job)
    step_log = next((tmp_path / "state" / "logs").glob("pipelines/*/Train.log")).read_text()
    assert "Stopped: the embedded stack stopped while the job ran" in step_log  # kept after the stop, beside the state


def test_after_a_sigkill_the_next_start_ends_the_left_job_and_removes_the_stale_state(tmp_path, monkeypatch, leftovers):
    killed = LocalUp(tmp_path / "state")
    leftovers.append(killed)
    drop_looping_job(killed, tmp_path, monkeypatch)
    job = killed.running_job(tmp_path / "state" / "logs")
    leftovers.append(job)

    killed.process.kill()
    killed.process.wait()
    assert alive(job) and killed.state_file.exists()  # what a SIGKILL leaves: an orphan job and a stale state file

    again = LocalUp(tmp_path / "state")
    leftovers.append(again)
    try:
        printed = again.printed()
        assert f"cleaned up: removed {killed.state_file}, left by a stack that did not stop" in printed
        assert f"cleaned up: ended job process {job}, left running by a stack that did not stop" in printed
        assert "cleaned up: removed its work folder" in printed
        assert not alive(job)
    finally:
        again.process.send_signal(signal.SIGTERM)
        again.process.wait(timeout=40)
