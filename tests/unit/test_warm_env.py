"""Jobs forked warm from an environment's server: each as a subprocess would run it, limits and failures included."""

import sys

import pytest

from mlrelay.local import warm_env
from mlrelay.local.warm_python import StoppedError


def run(tmp_path, script, timeout=None, env=None):
    (tmp_path / "job.py").write_text(script)
    stdout, stderr = tmp_path / "out.log", tmp_path / "err.log"
    code = warm_env.run(sys.executable, [str(tmp_path / "job.py"), "--flag", "x"], tmp_path, env or {"ONLY": "this"},
                        stdout, stderr, timeout_seconds=timeout, grace_seconds=0.5)
    return code, stdout.read_text() if stdout.exists() else "", stderr.read_text()


def test_a_job_gets_its_arguments_folder_and_exactly_its_environment_and_its_exit_code_is_its_own(tmp_path):
    code, out, _ = run(tmp_path, "import os, sys\nprint(sys.argv[1:], os.getcwd(), sorted(os.environ))\nsys.exit(3)\n")

    assert code == 3
    assert out.strip() == f"['--flag', 'x'] {tmp_path} ['ONLY']"


def test_an_exception_is_written_to_stderr_and_a_message_exit_is_one(tmp_path):
    code, _, err = run(tmp_path, "raise ValueError('bad input')\n")
    assert code == 1 and "ValueError: bad input" in err

    code, _, err = run(tmp_path, "import sys\nsys.exit('the table is empty')\n")
    assert code == 1 and err.strip() == "the table is empty"


def test_the_jobs_folder_comes_first_on_its_path_not_the_servers(tmp_path):
    (tmp_path / "events.py").write_text("WHOSE = 'the job'\n")  # mlrelay/local/events.py is beside the server file

    code, out, _ = run(tmp_path, "import events\nprint(events.WHOSE)\n")

    assert (code, out.strip()) == (0, "the job")


def test_a_job_past_its_time_is_stopped(tmp_path):
    with pytest.raises(StoppedError):
        run(tmp_path, "import time\ntime.sleep(30)\n", timeout=0.5)


def test_a_job_that_ends_without_python_s_exit_still_has_its_code_and_is_not_run_again(tmp_path):
    code, out, _ = run(tmp_path, "import os\nprint('once', flush=True)\nos._exit(7)\n")

    assert (code, out.strip()) == (7, "once")


def test_two_jobs_draw_different_numbers_from_numpys_global_random_state(tmp_path):
    script = "import numpy\nprint(numpy.random.rand())\n"
    first, second = (run(tmp_path, script)[1] for _ in range(2))

    assert first != second


def test_a_job_setting_a_variable_read_at_start_up_runs_cold(tmp_path):
    assert warm_env.run(sys.executable, ["x.py"], tmp_path, {"OMP_NUM_THREADS": "1"}, tmp_path / "o", tmp_path / "e") is None
