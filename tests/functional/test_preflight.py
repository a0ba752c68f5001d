"""GIVEN a config whose table, columns or code are not what it says, WHEN it is dropped, THEN it is refused at the drop
naming the field, in the report, the failures queue and Slack, and nothing starts."""

import json

import pytest

from mlrelay.local.state_file import local_config_bucket
from tests.conftest import valid_config

pytestmark = pytest.mark.functional

DATA = "mlrelay-demo-data"
STACK_BUCKET = local_config_bucket("dev")
HEADER = "item_id,added_at,category,material,length_cm,width_cm,height_cm,weight_g,fragile,price,package_type"


def with_data(**changes):
    document = valid_config()
    return {**document["data"], **changes}


CASES = {
    "pf-no-table": (
        {"data": with_data(uri=f"s3://{DATA}/nowhere/train.csv")},
        "data.uri", f"no object at s3://{DATA}/nowhere/train.csv and no CSV file under it"),
    "pf-not-in-stack-bucket": (  # a missing table in the stack's own bucket: ListBucket lets S3 answer 404, not 403
        {"data": with_data(uri=f"s3://{STACK_BUCKET}/tables/nowhere.csv")},
        "data.uri", f"no object at s3://{STACK_BUCKET}/tables/nowhere.csv and no CSV file under it"),
    "pf-no-bucket": (
        {"data": with_data(uri="s3://mlrelay-no-such-bucket/train.csv")},
        # AWS answers 403, not NoSuchBucket, to a role with no permission on the bucket
        "data.uri", "s3://mlrelay-no-such-bucket/train.csv cannot be read"),
    "pf-no-label": (
        {"data": with_data(label_column="box_type")},
        "data.label_column", f"'box_type' is not a column of s3://{DATA}/catalogue/train.csv"),
    "pf-no-feature": (
        {"data": with_data(feature_columns=["weight_g", "colour"])},
        "data.feature_columns[1]", "'colour' is not a column of"),
    "pf-no-code": (
        {"model": {"framework": "sklearn", "code_uri": f"s3://{DATA}/code/0123456789/sourcedir.tar.gz"}},
        "model.code_uri", f"no code bundle at s3://{DATA}/code/0123456789/sourcedir.tar.gz"),
    "pf-no-added-at": (
        {"data": with_data(uri=f"s3://{DATA}/preflight/no-added-at.csv")},
        "inference.added_at_column", "daily inference picks the items added the day before"),
    "pf-no-id": (
        {"data": with_data(uri=f"s3://{DATA}/preflight/no-id.csv"), "inference": {"daily": False, "monthly": True}},
        "inference.id_column", "monthly inference keys predictions by an item id"),
    "pf-parquet": (  # it crashed the trigger three times before: no run, no report, an alert naming no model
        {"data": with_data(uri=f"s3://{DATA}/preflight/table.parquet")},
        "data.uri", f"s3://{DATA}/preflight/table.parquet is a Parquet file, not a CSV table"),
    "pf-catalogue-lacks-features": (
        {"inference": {"catalogue_uri": f"s3://{DATA}/preflight/ids-only.csv"}},
        "inference.catalogue_uri", "8 are not in the catalogue"),
}


@pytest.fixture(scope="module")
def preflight_tables(aws):
    row = "\nI-1,2026-11-01,toys,paper,1,2,3,40,0,9.5,BOX\n"
    tables = {
        "preflight/no-added-at.csv": HEADER.replace("added_at,", "") + row.replace("2026-11-01,", ""),
        "preflight/no-id.csv": HEADER.replace("item_id,", "") + row.replace("I-1,", ""),
        "preflight/ids-only.csv": "item_id,added_at\nI-1,2026-11-01\n",
    }
    for key, body in tables.items():
        aws.s3.put_object(Bucket=DATA, Key=key, Body=body.encode())
    aws.s3.put_object(Bucket=DATA, Key="preflight/table.parquet", Body=b"PAR1\x15\x04\x15\x10\x15\x14L\r\n" * 50)


DENIED = {"pf-no-bucket": pytest.mark.access_denied("OnConfigDroppedRole", "s3:GetObject")}


@pytest.mark.parametrize("name", [pytest.param(name, marks=DENIED.get(name, ())) for name in sorted(CASES)])
def test_a_config_pointing_at_missing_data_or_code_is_refused_at_the_drop(aws, preflight_tables, name):
    overrides, path, words = CASES[name]
    key = f"configs/train/{name}.json"

    aws.drop(key, json.dumps(valid_config(model_name=name, **overrides)).encode())

    assert aws.runs(f"train-{name}-", timeout=0) == []
    report = aws.read_json(key + ".error.json")
    assert [(p["path"], words in p["message"]) for p in report["problems"]] == [(path, True)], report["problems"]
    (message,) = aws.failures_for(lambda m: m.get("kind") == "config_rejected" and m["config"]["key"] == key)
    assert message["problems"][0]["path"] == path
    (post,) = aws.slack_posts(key)
    assert path in json.dumps(post, ensure_ascii=False)


def test_a_table_that_does_not_answer_in_time_is_refused_saying_so(aws, monkeypatch):
    monkeypatch.setenv("PREFLIGHT_TIMEOUT_SECONDS", "1")  # the functions run in this process
    aws.s3.put_object(Bucket=DATA, Key="preflight/slow.csv", Body=(HEADER + "\n").encode())
    slow = aws.stack.faults.slow_reads(DATA, "preflight/slow.csv", seconds=4)
    key = "configs/train/pf-slow.json"
    try:
        aws.drop(key, json.dumps(valid_config(model_name="pf-slow", data=with_data(uri=f"s3://{DATA}/preflight/slow.csv"))).encode())
    finally:
        aws.stack.faults.remove(slow)

    assert aws.runs("train-pf-slow-", timeout=0) == []
    (problem,) = aws.read_json(key + ".error.json")["problems"]
    assert problem["path"] == "data.uri"
    assert f"could not read the header of s3://{DATA}/preflight/slow.csv within 1 s" in problem["message"]


def test_a_table_split_into_csv_files_under_a_prefix_is_checked_by_its_first_file_and_trains(aws):
    lines = aws.s3.get_object(Bucket=DATA, Key="catalogue/train.csv")["Body"].read().decode().splitlines()
    half = len(lines) // 2
    for part, rows in (("part-0001.csv", lines[1:half]), ("part-0002.csv", lines[half:])):
        aws.s3.put_object(Bucket=DATA, Key=f"preflight/parts/{part}", Body="\n".join([lines[0], *rows, ""]).encode())
    key = "configs/train/pf-prefix.json"

    aws.drop(key, json.dumps(valid_config(model_name="pf-prefix", data=with_data(uri=f"s3://{DATA}/preflight/parts/"),
                                          inference={"daily": False, "monthly": False})).encode())

    (run,) = aws.runs("train-pf-prefix-")
    assert run["status"] == "SUCCEEDED"
    assert aws.object_versions(key + ".error.json") == []
