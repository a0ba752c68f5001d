"""What a stack leaves when it is killed is found and ended by the next start; a stop ends the running jobs."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mlrelay.local import job_processes, memory_watch

pytestmark = pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")


def sleeper():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def ended_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_stacks_job_and_work_folder_are_ended_and_removed_by_the_next_start(tmp_path):
    job, work = sleeper(), Path(tempfile.mkdtemp(prefix=job_processes.WORK_DIR_PREFIX))
    record = tmp_path / "processes.json"
    # a stack (here: a process that has ended) recorded its work folder and a running job
    record.write_text(json.dumps({"stack_pid": ended_pid(), "stack_started_at": "1", "work_dir": str(work),
                                  "jobs": {str(job.pid): job_processes.started_at(job.pid)}}))

    said = job_processes.clean_leftovers(record)

    assert job.wait(timeout=5) == -9
    assert said[0].startswith(f"ended job process {job.pid}, left running by a stack that did not stop")
    assert said[1] == f"removed its work folder {work}" and not work.exists() and not record.exists()


def test_a_running_stacks_jobs_are_its_own_and_a_pid_reused_by_another_process_is_never_taken_for_a_job(tmp_path):
    job = sleeper()
    record = tmp_path / "processes.json"
    try:
        with job_processes.recorded_in(record, os.getpid(), tmp_path), job_processes.tracked(job.pid):
            assert job_processes.clean_leftovers(record) == []  # this stack still runs
            written = json.loads(record.read_text())
        written["stack_pid"] = ended_pid()
        written["jobs"] = {str(job.pid): "12345"}  # the pid, but another start time: not the job that was recorded
        record.write_text(json.dumps(written))

        # nor is a folder the stack did not make removed, whatever the file names
        assert job_processes.clean_leftovers(record) == [] and tmp_path.exists()
        assert job.poll() is None
    finally:
        job.kill()
        job.wait()


def test_stop_all_ends_the_running_jobs_and_no_job_starts_until_the_next_begin():
    job = sleeper()
    with job_processes.tracked(job.pid):
        started = time.monotonic()
        assert job_processes.stop_all(grace_seconds=2) == 1
    try:
        assert job.wait(timeout=5) == -15 and time.monotonic() - started < 2
        assert job_processes.stopping()
    finally:
        job_processes.begin()
    assert not job_processes.stopping()


def test_a_process_that_has_ended_has_no_tree_and_holds_no_memory():
    gone = ended_pid()

    assert memory_watch.process_tree(gone) == [gone]
    assert memory_watch.resident_bytes(gone) == 0
