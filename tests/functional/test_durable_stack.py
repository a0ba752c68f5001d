"""`mlrelay local up` keeps what it holds: after a SIGKILL at any moment, a start on the same folder has every write
that was acknowledged, marks the runs that were running interrupted (once, with one alert), and resumes them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from mlrelay.cli.connection import connect
from mlrelay.cli.main import app
from mlrelay.local import memory_watch
from mlrelay.local.job_processes import alive
from mlrelay.local.state_file import read_state
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import valid_config
from tests.functional.local_up import LocalUp, wait_for

pytestmark = [pytest.mark.functional, pytest.mark.skipif(not memory_watch.available(), reason="reads /proc")]
runner = CliRunner()
CODE = Path(__file__).parent / "code"


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def clients(service: str):
    """A client of the stack the state file names, as the CLI makes it."""
    return connect()[1](service)


def test_acknowledged_writes_survive_a_sigkill(tmp_path, monkeypatch, leftovers):
    state = tmp_path / "state"
    first = LocalUp(state)
    leftovers.append(first)
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(first.state_file))
    info = read_state()
    s3, sqs = clients("s3"), clients("sqs")
    bucket = info.outputs["ConfigBucketName"]  # versioned
    versions = [s3.put_object(Bucket=bucket, Key="notes/kept.txt", Body=body)["VersionId"] for body in (b"first", b"second")]
    s3.create_bucket(Bucket="team-data")
    s3.put_object(Bucket="team-data", Key="tables/t.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket="team-data", Key="tables/gone.csv", Body=b"x")
    s3.delete_object(Bucket="team-data", Key="tables/gone.csv")
    dead_letters = sqs.get_queue_url(QueueName="mlrelay-dev-failures-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dead_letters, MessageBody="undelivered")
    cli("warehouse", "query", "CREATE SCHEMA IF NOT EXISTS scratch")
    cli("warehouse", "query", "CREATE TABLE scratch.kept AS SELECT 42 AS answer")
    first.kill()  # at once: every write above was acknowledged, none was followed by a clean stop

    again = LocalUp(state)
    leftovers.append(again)
    try:
        assert "restored from" in again.printed()
        s3, sqs = clients("s3"), clients("sqs")
        listed = s3.list_object_versions(Bucket=bucket, Prefix="notes/")["Versions"]
        assert sorted(v["VersionId"] for v in listed) == sorted(versions)
        assert s3.get_object(Bucket=bucket, Key="notes/kept.txt", VersionId=versions[0])["Body"].read() == b"first"
        assert s3.get_object(Bucket=bucket, Key="notes/kept.txt")["Body"].read() == b"second"
        assert s3.get_object(Bucket="team-data", Key="tables/t.csv")["Body"].read() == b"a,b\n1,2\n"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="team-data")["Contents"]] == ["tables/t.csv"]
        received = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in received] == ["undelivered"]
        assert "42" in cli("warehouse", "query", "SELECT answer FROM scratch.kept")
    finally:
        again.stop()


def test_a_run_killed_during_train_is_interrupted_announced_once_and_resumed_to_one_version(tmp_path, monkeypatch, leftovers):
    state = tmp_path / "state"
    killed = LocalUp(state)
    leftovers.append(killed)
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(killed.state_file))
    path = _slow_model(tmp_path, "durable", {"pause_seconds": "15"}, inference={"daily": False, "monthly": False})
    cli("local", "drop", str(path), "--no-wait")
    job = killed.running_job(state / "logs")  # Train runs (it pauses 15 s before it fits)
    leftovers.append(job)
    killed.kill()

    again = LocalUp(state)
    leftovers.append(again)
    try:
        (run_id,) = _run_ids()
        printed = again.printed()
        assert f"cleaned up: ended job process {job}" in printed and not alive(job)
        assert (f"interrupted: training run {run_id} at WaitForTrainingPipeline; `mlrelay runs resume {run_id}`") in printed
        assert f"{run_id} training INTERRUPTED" in cli("runs", "list")

        wait_for(lambda: _slack_posts(), 60, "the interruption's alert")
        posts = _slack_posts()
        assert len(posts) == 1 and "interrupted at WaitForTrainingPipeline" in posts[0]
        assert f"mlrelay runs resume {run_id}" in posts[0]

        # the model's role came back with the state: the resumed Train runs as it, LoadTrainingConfig made it before the kill
        role = clients("iam").get_role(RoleName="mlrelay-dev-durable")["Role"]
        assert role["Path"] == "/mlrelay-dev-models/" and role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith("model-jobs")
        resumed = cli("runs", "resume", run_id)
        assert "skipped, done in an earlier attempt: RecordRunStarted, LoadTrainingConfig, StartTrainingPipeline" in resumed
        assert f"run {run_id} succeeded" in resumed
        assert f"{run_id} training SUCCEEDED" in cli("runs", "list")
        packages = clients("sagemaker").list_model_packages(ModelPackageGroupName="mlrelay-dev-durable")["ModelPackageSummaryList"]
        assert len(packages) == 1  # one version, registered by the resumed attempt
        assert len(_slack_posts()) == 2  # the interruption, then the outcome: nothing announced twice
    finally:
        again.stop()
    assert not again.state_file.with_suffix(".processes.json").exists()


def test_an_inference_run_killed_before_its_load_is_resumed_and_loads_its_rows_once(tmp_path, monkeypatch, leftovers):
    state = tmp_path / "state"
    killed = LocalUp(state)
    leftovers.append(killed)
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(killed.state_file))
    # each transform pauses: its validation's in training, the catalogue's
    path = _slow_model(tmp_path, "durable-infer", {"serve_pause_seconds": "8"}, inference={"daily": False, "monthly": True},
                       approval={"metric": "macro_f1", "threshold": 0.1, "max_regression": 0.5})
    assert "durable-infer v1: Approved" in cli("local", "drop", str(path), "--timeout", "300")
    cli("warehouse", "init")  # the tables, made in this stack's warehouse: the next start must have them
    cli("local", "schedule", "monthly", "--at", "2026-11-01T06:00:00Z")
    job = killed.running_job(state / "logs", step="Transform")  # the catalogue's transform, before the load
    leftovers.append(job)
    killed.kill()

    again = LocalUp(state)
    leftovers.append(again)
    try:
        (run_id,) = _run_ids("InferenceStateMachine")
        assert f"interrupted: inference run {run_id} at WaitForInferencePipeline" in again.printed()
        assert f"run {run_id} succeeded" in cli("runs", "resume", run_id)
        counted = cli("warehouse", "query", f"SELECT COUNT(*) AS n, COUNT(DISTINCT item_id) AS items FROM mlrelay.predictions "
                      f"WHERE run_id = '{run_id}'")
        assert re.search(r"\b4000\D+4000\b", counted), counted  # the catalogue `local up` put there, each item once
    finally:
        again.stop()


def test_a_load_killed_inside_its_transaction_leaves_the_warehouse_as_its_last_commit(tmp_path, monkeypatch, leftovers):
    # GIVEN a run's rows in the warehouse of a durable stack
    state = tmp_path / "state"
    killed = LocalUp(state)
    leftovers.append(killed)
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(killed.state_file))
    data, connection = clients("redshift-data"), connection_from(read_state().outputs)
    run_statement(data, connection, sqls=["CREATE SCHEMA kill_test", "CREATE TABLE kill_test.loaded (run_id VARCHAR, n BIGINT)",
                                          "INSERT INTO kill_test.loaded VALUES ('run-1', 1), ('run-1', 2)"])
    # WHEN a load of the run (its rows deleted, then inserted, one transaction as the Load step's) is killed half-way
    load = data.batch_execute_statement(**connection, Sqls=[
        "DELETE FROM kill_test.loaded WHERE run_id = 'run-1'",
        "INSERT INTO kill_test.loaded SELECT 'run-1', sum(range % 7) FROM range(30000000000)",  # seconds of work
    ])["Id"]
    wait_for(lambda: [part["Status"] for part in data.describe_statement(Id=load)["SubStatements"]] == ["FINISHED", "STARTED"],
             60, "the delete done and the insert running")
    killed.kill()

    # THEN the next start has the rows of the last commit (the delete went with its transaction), and loads again
    again = LocalUp(state)
    leftovers.append(again)
    try:
        kept = cli("warehouse", "query", "SELECT run_id, n FROM kill_test.loaded ORDER BY n")
        run_statement(clients("redshift-data"), connection, sqls=[
            "DELETE FROM kill_test.loaded WHERE run_id = 'run-1'", "INSERT INTO kill_test.loaded VALUES ('run-1', 3)"])
        reloaded = cli("warehouse", "query", "SELECT run_id, n FROM kill_test.loaded ORDER BY n")
    finally:
        again.stop()

    assert re.findall(r"run-1\W+(\d+)", kept) == ["1", "2"], kept  # the table as printed: │ run-1 │ 1 │
    assert re.findall(r"run-1\W+(\d+)", reloaded) == ["3"], reloaded


def _slow_model(tmp_path: Path, model_name: str, pauses: dict[str, str], **config: object) -> Path:
    """A config naming a copy of the slow classifier's folder, with its pause files: where `local drop` takes it."""
    folder = tmp_path / "slow"
    shutil.copytree(CODE / "slow", folder)
    for name, seconds in pauses.items():
        (folder / name).write_text(seconds)
    document = valid_config(model_name=model_name, model={"framework": "sklearn", "entry_point": "train.py",
                                                          "source_dir": str(folder)}, **config)
    path = tmp_path / f"{model_name}.json"
    path.write_text(json.dumps(document))
    return path


def _run_ids(machine: str = "TrainingStateMachine") -> list[str]:
    return [execution["name"] for execution in clients("stepfunctions").list_executions(
        stateMachineArn=read_state().state_machines[machine])["executions"]]


def _slack_posts() -> list[str]:
    receiver = read_state().local["slack_webhook_url"].split("/services/")[0]
    return [json.dumps(post["message"]) for post in requests.get(f"{receiver}/messages", timeout=5).json()]
