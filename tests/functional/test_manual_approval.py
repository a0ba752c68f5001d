"""GIVEN approval.mode manual, WHEN people decide (by `mlrelay models` or in the registry), THEN registry, pointer,
history and the next inference agree, and a duplicate registry event changes nothing.

One model through its life, in order: v1 waits and is approved by the CLI; v2 waits and is approved in the
registry (the event delivered twice); a rollback whose target artifact is gone is refused, then made; the
next monthly run uses the version rolled back to.
"""

from __future__ import annotations

import json

import pytest

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.naming import package_group_name
from mlrelay.warehouse_client import connection_from, run_statement

pytestmark = pytest.mark.functional
MODEL = "manual-pt"
MANUAL = {"metric": "macro_f1", "threshold": 0.5, "max_regression": 0.5, "mode": "manual"}


def train(aws, runs_before):
    aws.drop_training_config(MODEL, approval=MANUAL)
    aws.stack.runtime.wait_idle()
    (run,) = [r for r in aws.runs(f"train-{MODEL}-") if r["name"] not in runs_before]
    assert run["status"] == "SUCCEEDED"
    return run


def versions(aws):
    return ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)


def registry_status(aws, version):
    arn = versions(aws).version(MODEL, version).model_package_arn
    return aws.stack.client("sagemaker").describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]


@pytest.fixture(scope="module")
def life(aws, cli):
    """Every step of the model's life, recorded for the tests to read."""
    seen = {}
    first = train(aws, set())
    seen["v1_pending"] = (versions(aws).version(MODEL, 1).status, versions(aws).approved(MODEL), registry_status(aws, 1))
    seen["approve_v1"] = cli("models", "approve", MODEL, "1", "--reason", "checked the confusion matrix")

    train(aws, {first["name"]})
    package = versions(aws).version(MODEL, 2).model_package_arn
    sagemaker = aws.stack.client("sagemaker")
    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved", ApprovalDescription="approved in Studio")
    aws.stack.runtime.wait_idle()
    seen["after_registry_approval"] = versions(aws).approved(MODEL).version
    event = {"version": "0", "id": "again", "detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
             "detail": {"ModelPackageGroupName": package_group_name("dev", MODEL), "ModelPackageVersion": 2, "ModelPackageArn": package,
                        "ModelApprovalStatus": "Approved", "ApprovalDescription": "approved in Studio"}}
    seen["duplicate_event"] = aws.invoke("decide_model", event)

    artifact = sagemaker.describe_model_package(ModelPackageName=versions(aws).version(MODEL, 1).model_package_arn)
    bucket, _, key = artifact["InferenceSpecification"]["Containers"][0]["ModelDataUrl"].removeprefix("s3://").partition("/")
    body = aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    aws.s3.delete_object(Bucket=bucket, Key=key)
    seen["rollback_refused"] = cli("models", "rollback", MODEL, "--reason", "v2 mislabels fragile items")
    aws.s3.put_object(Bucket=bucket, Key=key, Body=body)
    seen["rollback"] = cli("models", "rollback", MODEL, "--reason", "v2 mislabels fragile items")
    aws.stack.runtime.wait_idle()
    seen["show"] = cli("models", "show", MODEL)
    return seen


def test_a_candidate_that_passes_waits_for_a_person_and_people_are_asked(aws, life):
    status, pointer, in_registry = life["v1_pending"]

    assert (status, pointer, in_registry) == ("PendingManualApproval", None, "PendingManualApproval")
    (post,) = aws.slack_posts(f"{MODEL} v1 awaits your decision")
    assert f"mlrelay models approve {MODEL} 1 --reason" in json.dumps(post)


def test_an_approval_by_the_cli_changes_registry_and_pointer_and_records_who_and_why(aws, life):
    code, output = life["approve_v1"]

    assert code == 0 and f"{MODEL}: approve v1 done; inference now uses v1" in output
    entry = versions(aws).version(MODEL, 1).history[-1]
    assert entry["actor"].startswith("arn:aws:") and entry["action"] == "approve"  # the caller's identity (moto's STS)
    assert (entry["from"], entry["to"], entry["reason"]) == ("PendingManualApproval", "Approved", "checked the confusion matrix")
    assert aws.slack_posts(f"{MODEL} approved v1 by hand")


def test_an_approval_in_the_registry_moves_the_pointer_once_even_when_its_event_comes_twice(aws, life):
    assert life["after_registry_approval"] == 2
    assert life["duplicate_event"]["outcome"] == "unchanged"
    approvals = [e for e in versions(aws).version(MODEL, 2).history if e["action"] == "approve"]
    assert [(e["reason"], e["source"]) for e in approvals] == [("approved in Studio", "registry")]
    decided = aws.notifications_for(lambda m: (m.get("kind"), m.get("model_name"), m.get("version")) == ("model_decided", MODEL, 2))
    assert len(decided) == 1


def test_a_rollback_to_a_version_whose_artifact_is_gone_is_refused_then_made_when_it_is_back(aws, life):
    refused_code, refused = life["rollback_refused"]
    code, output = life["rollback"]

    assert refused_code == 1 and "its model artifact s3://" in refused and "is gone" in refused
    assert code == 0 and "inference now uses v1" in output
    assert versions(aws).approved(MODEL).version == 1
    assert (versions(aws).version(MODEL, 2).status, registry_status(aws, 2)) == ("Rejected", "Rejected")
    assert "rollback: Approved → Rejected by arn:aws:" in life["show"][1] and "v2 mislabels fragile items" in life["show"][1]


def test_the_next_scheduled_inference_uses_the_version_the_pointer_names(aws, life):
    outputs = aws.stack.info.outputs
    run_statement(aws.data, connection_from(outputs), sqls=create_table_sqls(PredictionsTable(*outputs["PredictionsTableName"].split("."))))

    monthly = aws.monthly_run(MODEL, "2031-03")

    assert monthly["status"] == "SUCCEEDED"
    loaded = aws.stack.warehouse.query(f"SELECT DISTINCT model_version FROM mlrelay.predictions WHERE run_id = '{monthly['name']}'")
    assert loaded == [(1,)]


def test_an_inference_runs_cost_counts_its_warehouse_statements_at_their_minimum(aws, life, cli):
    monthly = aws.monthly_run(MODEL, "2031-04")

    code, shown = cli("runs", "show", monthly["name"])

    # the monitoring rows, the load batch and the count, each billed 60 s at 8 RPU: 1,440 RPU-s at $0.375 an RPU-hour
    # (rich wraps the row)
    assert code == 0 and "Redshift Serverless 1,440 RPU-s (3 statements" in shown and "0.150000" in shown
