"""Jobs forked from the warm interpreter behave as subprocesses would: arguments, cwd, env, output, exit codes."""

import sys

import pytest

from mlrelay.local import warm_python

pytestmark = pytest.mark.skipif(not warm_python.available(), reason="no forkserver on this platform")


def run(tmp_path, arguments, env=None):
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    code = warm_python.run(arguments, tmp_path, env or {}, out, err)
    return code, out.read_text(), err.read_text()


def test_a_script_gets_its_arguments_directory_and_environment_and_its_output_is_kept(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("import os, sys\nprint(sys.argv[1:], os.getcwd(), os.environ['SM_CHANNELS'], __name__)\n")

    code, out, err = run(tmp_path, [str(script), "--input", "/data"], {"SM_CHANNELS": '["train"]'})

    assert (code, err) == (0, "")
    assert out.strip() == f"['--input', '/data'] {tmp_path} [\"train\"] __main__"


def test_failures_exit_non_zero_with_the_message_last_on_stderr_and_jobs_share_no_state(tmp_path):
    failing = tmp_path / "fail.py"
    failing.write_text("import json\njson.marker = 'set by the first job'\nimport sys\nsys.exit('column weight_g is missing')\n")
    crashing = tmp_path / "crash.py"
    crashing.write_text("import json\nassert not hasattr(json, 'marker'), 'state leaked'\nraise ValueError('bad row 7')\n")

    exited, _, exit_err = run(tmp_path, [str(failing)])
    crashed, _, crash_err = run(tmp_path, [str(crashing)])

    assert exited == 1 and exit_err.strip().splitlines()[-1] == "column weight_g is missing"
    assert crashed == 1 and crash_err.strip().splitlines()[-1] == "ValueError: bad row 7"


def test_a_module_runs_with_its_pythonpath(tmp_path):
    package = tmp_path / "lib"
    package.mkdir()
    (package / "hosted.py").write_text("import sys\nprint('hosted', sys.argv[1:])\n")

    code, out, _ = run(tmp_path, ["-m", "hosted", "--x", "1"], {"PYTHONPATH": str(package)})

    assert code == 0 and out.strip() == "hosted ['--x', '1']"
    assert sys.argv[0] != "hosted"  # the parent is untouched


def test_a_job_the_warm_interpreter_could_not_run_to_its_end_runs_in_a_fresh_one(tmp_path, monkeypatch):
    from mlrelay.local import sagemaker_jobs

    script = tmp_path / "step.py"
    script.write_text("print('ran cold')\n")
    monkeypatch.setattr(warm_python, "run", lambda *args: None)  # as when the forkserver goes away mid-job
    job = sagemaker_jobs.JobContext(s3=None, directory=tmp_path, log_path=tmp_path / "step.log")

    sagemaker_jobs._run(job, [sys.executable, str(script)], env={})

    log = job.log_path.read_text()
    assert "running it in a fresh one" in log and log.strip().endswith("ran cold")


def test_the_exit_code_is_the_jobs_own(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("import sys\nprint('partial')\nsys.exit(3)\n")

    code, out, _ = run(tmp_path, [str(script)])

    assert (code, out.strip()) == (3, "partial")
