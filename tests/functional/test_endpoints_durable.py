"""GIVEN an InService endpoint on `mlrelay local up`, WHEN the stack is killed and started again on its folder, THEN
the killed stack's host is ended and the endpoint answers again (its host starts on the first request)."""

from __future__ import annotations

import json

import pytest

from mlrelay.cli.connection import connect
from mlrelay.local import memory_watch
from mlrelay.local.job_processes import alive
from tests.conftest import ROOT
from tests.functional import endpoint_models as em
from tests.functional.local_up import LocalUp, wait_for

pytestmark = [pytest.mark.functional, pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")]
BUCKET = "endpoint-durable"


def test_an_in_service_endpoint_answers_after_a_kill_and_a_restart(tmp_path, monkeypatch, leftovers):
    monkeypatch.setenv("MLRELAY_IMAGE_ENVS", str(ROOT / "build" / "image-envs"))
    python = em.image_python(tmp_path / "env.log")
    model = em.fit(python, tmp_path / "model")
    first = LocalUp(tmp_path / "state")
    leftovers.append(first)
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(first.state_file))
    client = connect()[1]
    s3, sagemaker = client("s3"), client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=em.tar_folder(model))
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=em.tar_folder(em.CODE))
    role = em.model_role(client("iam"), "durable-endpoint-role", BUCKET)
    em.create_model(sagemaker, "kept", role, f"s3://{BUCKET}/model/model.tar.gz", f"s3://{BUCKET}/code/sourcedir.tar.gz")
    em.create_config(sagemaker, "kept", "kept")
    sagemaker.create_endpoint(EndpointName="kept", EndpointConfigName="kept")
    wait_for(lambda: sagemaker.describe_endpoint(EndpointName="kept")["EndpointStatus"] == "InService", 120, "InService endpoint")
    record = first.state_file.with_suffix(".processes.json")
    (host,) = json.loads(record.read_text())["jobs"]
    leftovers.append(int(host))
    first.kill()

    again = LocalUp(tmp_path / "state")
    leftovers.append(again)
    try:
        client = connect()[1]
        answer = client("sagemaker-runtime").invoke_endpoint(EndpointName="kept", ContentType="text/csv", Body=em.ROWS)

        assert not alive(int(host))  # the start ended what the killed stack left running
        assert answer["Body"].read().decode() == em.direct(python, model, em.ROWS)
        assert client("sagemaker").describe_endpoint(EndpointName="kept")["EndpointStatus"] == "InService"
    finally:
        again.stop()
