"""GIVEN the embedded stack, WHEN a config lands under configs/train/, THEN exactly the right thing happens."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.bad_configs import BAD_CONFIGS
from tests.conftest import EXAMPLES, valid_config

pytestmark = pytest.mark.functional


def test_a_valid_config_starts_one_training_run_that_succeeds(aws):
    body = json.dumps(valid_config(model_name="ok-basic")).encode()

    aws.drop("configs/train/ok-basic.json", body)

    (run,) = aws.runs("train-ok-basic-")
    assert run["status"] == "SUCCEEDED"
    output = json.loads(aws.sfn.describe_execution(executionArn=run["executionArn"])["output"])
    assert output["training"]["settings"]["model_type"] == "sklearn.gradient_boosting"
    assert output["training"]["settings"]["code"]["hyperparameters"]["n_estimators"] == 20
    record = aws.run_record(run["name"])
    assert record["status"] == "SUCCEEDED"
    assert record["config_uri"] == f"s3://{aws.bucket}/configs/train/ok-basic.json"


def test_a_yaml_config_starts_a_run(aws):
    aws.drop("configs/train/yaml-example.yaml", (EXAMPLES / "packaging-type.yaml").read_bytes())

    (run,) = aws.runs("train-yaml-example-")
    assert run["status"] == "SUCCEEDED"


def test_the_same_event_delivered_three_times_starts_one_run(aws):
    body = json.dumps(valid_config()).encode()
    put = aws.drop("configs/train/dedup-sequential.json", body)
    event = aws.event_for("configs/train/dedup-sequential.json", put, len(body))

    outcomes = [aws.deliver(event) for _ in range(3)]

    runs = aws.runs("train-dedup-sequential-")
    assert len(runs) == 1
    assert {o["run_id"] for o in outcomes} == {runs[0]["name"]}


def test_the_same_event_delivered_five_times_concurrently_starts_one_run(aws):
    body = json.dumps(valid_config()).encode()
    key = "configs/train/dedup-concurrent.json"
    put = aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=body)  # S3's own delivery races the five below
    event = aws.event_for(key, put, len(body))

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(aws.deliver, [event] * 5))
    aws.stack.runtime.wait_idle()

    assert len(aws.runs("train-dedup-concurrent-")) == 1
    assert {o["outcome"] for o in outcomes} <= {"started", "already_started", "duplicate_in_progress"}


def test_a_new_version_of_the_same_key_starts_a_second_run(aws):
    key = "configs/train/versioned.json"

    first = aws.drop(key, json.dumps(valid_config()).encode())
    second = aws.drop(key, json.dumps(valid_config(approval={"metric": "accuracy", "threshold": 0.6})).encode())

    runs = aws.runs("train-versioned-")
    assert len(runs) == 2
    started_versions = {
        json.loads(aws.sfn.describe_execution(executionArn=r["executionArn"])["input"])["config"]["version_id"]
        for r in runs
    }
    assert started_versions == {first["VersionId"], second["VersionId"]}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_a_bad_config_starts_nothing_and_reports_once(aws, name):
    suffix, content, path, words = BAD_CONFIGS[name]
    key = f"configs/train/{name}{suffix}"

    aws.drop(key, content)

    assert aws.runs(f"train-{name}-") == []
    messages = aws.failures_for(lambda m: m.get("kind") == "config_rejected" and m["config"]["key"] == key)
    assert len(messages) == 1
    assert any(p["path"] == path and words in p["message"] for p in messages[0]["problems"])
    report = aws.read_json(key + ".error.json")
    assert report["config"] == f"s3://{aws.bucket}/{key}"
    assert any(p["path"] == path and words in p["message"] for p in report["problems"])
    assert len(aws.object_versions(key + ".error.json")) == 1  # the report did not trigger itself
    assert len(aws.object_versions(key)) == 1  # nothing deleted


def test_a_bad_config_delivered_twice_reports_once(aws):
    key = "configs/train/bad-twice.json"
    put = aws.drop(key, b'{"schema_version": 1}')

    aws.deliver(aws.event_for(key, put, 21))

    assert len(aws.failures_for(lambda m: m.get("config", {}).get("key") == key)) == 1
    assert len(aws.object_versions(key + ".error.json")) == 1
