"""`mlrelay local up` as a person runs it: SIGTERM stops it, jobs and all, within 30 s, its state file last; after a
SIGKILL, the next start ends the job the killed stack left running and removes what it left behind."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlrelay.cli.main import app
from mlrelay.local import memory_watch
from mlrelay.local.job_processes import alive
from tests.conftest import valid_config
from tests.functional.local_up import LocalUp

pytestmark = [pytest.mark.functional, pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")]
CODE = Path(__file__).parent / "code"
runner = CliRunner()


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


def test_sigterm_ends_the_running_job_and_the_stack_within_30_seconds_state_file_last_and_its_run_is_interrupted(
        tmp_path, monkeypatch, leftovers):
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

    # the stop kept the state as it was: the run was running, so the next start says it was interrupted, not failed
    again = LocalUp(tmp_path / "state")
    leftovers.append(again)
    try:
        assert "interrupted: training run train-lifecycle-" in again.printed()
        listed = runner.invoke(app, ["runs", "list"])
        assert " ".join(listed.output.split()).count("INTERRUPTED") == 1, listed.output
    finally:
        again.stop()


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
