"""A local job stages its S3 inputs inside its own folder, whatever the object keys say."""

import json

import boto3
import pytest
from moto import mock_aws

from mlrelay.local.sagemaker_jobs import JobFailedError, download, download_manifest

BUCKET = "job-inputs"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_a_prefix_is_staged_with_its_paths_kept(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="data/train/part-1.csv", Body=b"a\n1\n")
    s3.put_object(Bucket=BUCKET, Key="data/train/more/part-2.csv", Body=b"a\n2\n")

    download(s3, f"s3://{BUCKET}/data/train/", tmp_path / "train")

    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv")) == [
        "train/more/part-2.csv", "train/part-1.csv"]


@pytest.mark.parametrize("hostile", ["data/train/../../../../outside.csv", "data/train/ok/../../../escape.csv"])
def test_a_key_that_climbs_out_of_the_jobs_folder_fails_the_step_naming_it_and_writes_nothing_outside(s3, tmp_path, hostile):
    s3.put_object(Bucket=BUCKET, Key=hostile, Body=b"x\n")
    job = tmp_path / "job" / "opt" / "ml" / "input" / "data" / "train"

    with pytest.raises(JobFailedError, match=f"the object s3://{BUCKET}/{hostile.replace('.', '[.]')} would be staged outside"):
        download(s3, f"s3://{BUCKET}/data/train/", job)

    assert [p for p in tmp_path.rglob("*.csv")] == []


def test_a_manifest_entry_that_climbs_out_fails_the_step_too(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="runs/m/r/manifest.json",
                  Body=json.dumps([{"prefix": f"s3://{BUCKET}/runs/m/r/"}, "../../x.csv"]).encode())

    with pytest.raises(JobFailedError, match=r"runs/m/r/\.\./\.\./x\.csv would be staged outside"):
        download_manifest(s3, f"s3://{BUCKET}/runs/m/r/manifest.json", tmp_path / "job" / "input")


def test_a_processing_job_sees_its_environment_as_sagemaker_sets_it_in_the_container(s3, tmp_path, monkeypatch):
    import sys

    from mlrelay.local import warm_python
    from mlrelay.local.sagemaker_jobs import JobContext, run_processing

    monkeypatch.setattr(warm_python, "available", lambda: False)  # a plain process, as a fresh job gets
    script = tmp_path / "show.py"
    script.write_text("import os, pathlib\npathlib.Path('/opt/ml/processing/out/env.txt'.replace('/opt', os.environ['ROOT'] + '/opt'))"
                      ".write_text(os.environ['MLRELAY_INPUT_DATA_VERSION'])\n")
    (tmp_path / "job" / "opt/ml/processing/out").mkdir(parents=True)
    job = JobContext(s3=s3, directory=tmp_path / "job", log_path=tmp_path / "job.log")

    run_processing(job, {
        "AppSpecification": {"ContainerEntrypoint": [sys.executable, str(script)]},
        "Environment": {"MLRELAY_INPUT_DATA_VERSION": "etag:abc", "ROOT": str(tmp_path / "job")},
    })

    assert (tmp_path / "job" / "opt/ml/processing/out/env.txt").read_text() == "etag:abc"
