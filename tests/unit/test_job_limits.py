"""A local job is held to its limits as SageMaker holds it: its maximum runtime and its instance type's memory."""

import sys
import time

import pytest

from mlrelay.local import memory_watch
from mlrelay.local.sagemaker_jobs import JobContext, JobFailedError, Limits, _run

LOOPS = "import time\nwhile True:\n    time.sleep(0.05)\n"
GROWS = "import time\nheld = []\nfor _ in range(40):\n    held.append(b'x' * (64 * 1024 * 1024))\n    time.sleep(0.02)\n"
COLD = ["/usr/bin/env", "python3"]  # not this interpreter: a plain subprocess, as a team's code with requirements runs


def job(tmp_path, limits, script):
    (tmp_path / "job.py").write_text(script)
    return JobContext(s3=None, directory=tmp_path, log_path=tmp_path / "step.log", limits=limits)


@pytest.mark.parametrize("interpreter", [[sys.executable], COLD], ids=["warm", "cold"])
def test_a_job_past_its_maximum_runtime_is_stopped_and_fails_with_sagemakers_reason(tmp_path, interpreter):
    limits = Limits(max_runtime_seconds=60, time_scale=0.02, kind="Training")  # 1.2 s on this clock
    context = job(tmp_path, limits, LOOPS)
    started = time.monotonic()

    with pytest.raises(JobFailedError, match=r"^MaxRuntimeExceeded: Training job reached the maximum runtime of 60 seconds"):
        _run(context, [*interpreter, str(tmp_path / "job.py")], env={})

    assert time.monotonic() - started < 30  # not the loop's end: it has none (a warm start may wait for the forkserver)
    assert "MaxRuntimeExceeded" in (tmp_path / "step.log").read_text()


@pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")
@pytest.mark.parametrize("interpreter", [[sys.executable], COLD], ids=["warm", "cold"])
def test_a_job_over_its_instances_memory_is_ended_and_fails_with_an_out_of_memory_reason(tmp_path, interpreter):
    # the instance's memory scaled down to 1 GiB: the job grows to 2.5 GiB unless it is ended
    limits = Limits(instance_type="ml.m5.large", memory_bytes=1024**3, kind="Training")
    context = job(tmp_path, limits, GROWS)

    with pytest.raises(JobFailedError, match=r"^OutOfMemory: Please use an instance type with more memory.* the 1 GiB of an "
                                             r"ml\.m5\.large and was ended$"):
        _run(context, [*interpreter, str(tmp_path / "job.py")], env={})


def test_a_job_within_its_limits_runs_to_its_end(tmp_path):
    limits = Limits(max_runtime_seconds=60, instance_type="ml.m5.large", memory_bytes=8 * 1024**3)
    context = job(tmp_path, limits, "print('done')\n")

    _run(context, [sys.executable, str(tmp_path / "job.py")], env={})

    assert "done" in (tmp_path / "step.log").read_text()


def test_the_limits_come_from_the_jobs_arguments_and_its_instance_types_memory():
    training = Limits.of({"StoppingCondition": {"MaxRuntimeInSeconds": "3600"}, "ResourceConfig": {"InstanceType": "ml.m5.xlarge"}},
                         "Training", time_scale=0.1)
    processing = Limits.of({"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.c5.xlarge"}}}, "Processing")

    assert (training.max_runtime_seconds, training.wait_seconds, training.memory_bytes) == (3600, 360.0, 16 * 1024**3)
    assert (processing.max_runtime_seconds, processing.memory_bytes) == (None, 8 * 1024**3)


def test_a_new_config_may_name_only_an_instance_type_mlrelay_knows_and_prices_and_a_stored_one_still_reads():
    import json

    from chalicelib.config.instances import INSTANCE_TYPES
    from chalicelib.config.parsing import ConfigError, parse_config, parse_new_config
    from tests.conftest import ROOT, valid_config

    priced = json.loads((ROOT / "mlrelay" / "prices.json").read_text())["sagemaker_per_instance_hour"]
    raw = json.dumps(valid_config(training={"instance_type": "ml.m5.12xlarge"})).encode()

    with pytest.raises(ConfigError) as refused:
        parse_new_config(raw, "configs/train/x.json")

    assert set(INSTANCE_TYPES) <= set(priced)
    (problem,) = refused.value.problems
    assert problem.path == "training.instance_type" and "ml.m5.12xlarge is not one of" in problem.message
    assert "ml.m5.large, ml.m5.xlarge" in problem.message
    # an approved version's config, stored before the list: inference and schedules still read it
    assert parse_config(raw, "configs/train/x.json").training.instance_type == "ml.m5.12xlarge"
