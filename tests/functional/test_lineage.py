"""Lineage on the embedded stack: a version records the exact table and code it read, a run reads their pinned
copies, the index names every run that read a table, and `mlrelay models reproduce` retrains from what was recorded."""

import json

import pytest
from typer.testing import CliRunner

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import valid_config

pytestmark = pytest.mark.functional
MODEL = "lineage-pt"
TABLE_KEY = "data/lineage/catalogue.csv"  # in the stack's bucket, which keeps versions (the tests' data bucket does not)
runner = CliRunner()


@pytest.fixture
def state_file(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(stack.info)


def cli_json(*args):
    result = runner.invoke(app, [*args, "--json"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def table_uri(aws):
    return f"s3://{aws.bucket}/{TABLE_KEY}"


def train(aws, rows: bytes):
    """Upload `rows` to the model's table, drop its config, and return its new version once the run ended."""
    put = aws.s3.put_object(Bucket=aws.bucket, Key=TABLE_KEY, Body=rows)
    data = {**valid_config()["data"], "uri": table_uri(aws)}
    aws.drop_training_config(MODEL, data=data)
    aws.stack.runtime.wait_idle()
    runs = aws.runs(f"train-{MODEL}-", timeout=240)
    assert all(r["status"] == "SUCCEEDED" for r in runs), runs
    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    return put["VersionId"], max(versions.versions(MODEL), key=lambda v: v.version)


def test_each_version_records_the_table_version_it_read_and_reproduce_reads_that_version_after_an_upload(aws, state_file):
    original = valid_config()["data"]["uri"].removeprefix("s3://").split("/", 1)
    rows = aws.s3.get_object(Bucket=original[0], Key=original[1])["Body"].read()
    lines = rows.splitlines(keepends=True)

    first_object, first = train(aws, rows)
    second_object, second = train(aws, b"".join(lines[:1] + lines[1::2]))  # the same URI, uploaded again: half the rows

    table, uri = first.lineage["table"], table_uri(aws)
    assert (table["uri"], [f["version_id"] for f in table["files"]]) == (uri, [first_object])
    assert table["rows"]["train"] + table["rows"]["validation"] == len(lines) - 1
    assert second.lineage["table"]["files"][0]["version_id"] == second_object != first_object
    assert second.lineage["table"]["pinned_uri"] != table["pinned_uri"]
    pinned_bucket, pinned_prefix = table["pinned_uri"].removeprefix("s3://").split("/", 1)
    assert aws.s3.get_object(Bucket=pinned_bucket, Key=f"{pinned_prefix}catalogue.csv")["Body"].read() == rows
    code = first.lineage["code"]
    assert len(code["sha256"]) == 64 and code["pinned_uri"].startswith(f"s3://{aws.bucket}/inputs/code/")
    assert first.lineage["config"]["version_id"] == first.config["version_id"]
    assert first.lineage["decision"] == "Approved" and first.lineage["judged_against"] is None

    # an inference run records the catalogue versions it read
    predictions = PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=create_table_sqls(predictions))
    monthly = aws.monthly_run(MODEL, "2031-07")
    assert monthly["status"] == "SUCCEEDED", aws.sfn.describe_execution(executionArn=monthly["executionArn"]).get("cause")
    readers = cli_json("lineage", "data", uri)
    assert [(r["kind"], r["version"]) for r in readers] == [("training", 1), ("training", 2), ("inference", 2)]
    assert readers[2]["files"][0]["version_id"] == second_object and readers[2]["mode"] == "monthly"
    assert [r["version"] for r in cli_json("lineage", "data", uri, "--version-id", first_object)] == [1]

    approved = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).approved(MODEL).version
    reproduced = cli_json("models", "reproduce", MODEL, "1")

    again = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version(MODEL, reproduced["reproduced"]["version"])
    assert again.lineage["table"]["files"] == table["files"] and again.lineage["table"]["pinned_uri"] == table["pinned_uri"]
    assert again.lineage["reproduces"] == {"model_name": MODEL, "version": 1}
    # judged like any run, but a person decides: the approved version stays where it was
    assert again.status in ("PendingManualApproval", "Rejected")
    assert ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).approved(MODEL).version == approved
    assert all(m["same"] for m in reproduced["metrics"]) and len(reproduced["metrics"]) >= 5, reproduced["metrics"]
    # the same graph in SageMaker ML Lineage Tracking, read back through its API: v1 and v2 share the code and image artifacts
    for version in (1, 2):
        tracked = cli_json("models", "lineage", MODEL, str(version), "--sagemaker")["sagemaker"]
        # table, code, image (for training and serving), model
        assert tracked["differences"] == [] and len(tracked["associations"]) == 4, tracked
    sagemaker = aws.stack.client("sagemaker")
    code_artifacts = sagemaker.list_artifacts(SourceUri=code["uri"])["ArtifactSummaries"]
    assert [a["ArtifactType"] for a in code_artifacts] == ["Code"]
    tree = runner.invoke(app, ["models", "lineage", MODEL, "1"])
    assert tree.exit_code == 0 and first_object in tree.output and code["sha256"] in tree.output
