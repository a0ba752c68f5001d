"""GIVEN the stack's IAM as the template had it before each fix, WHEN the path that needs the fix runs, THEN the
embedded stack denies it as AWS would, and the run's failure and its alert say AccessDenied, naming the role and
the action. The rest of the suite runs the fixed template, so each fix is also shown to be enough.

Each test changes the live stack's policies only for its own block (`EmbeddedStack.replaced_iam`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.aws import clients
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.local.emulated.iam import acting_as
from mlrelay.local.iam.policies import Statement
from mlrelay.local.iam.principals import IamModel
from mlrelay.local.stack import ACCOUNT_ID
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import ROOT, valid_config
from tests.functional.conftest import DATA_BUCKET

CODE = ROOT / "tests" / "functional" / "code"

pytestmark = pytest.mark.functional

KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/0b7a4c1e-5d2f-4e8a-9c3b-1f2e3d4c5b6a"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:mlrelay-dev-redshift"


def without(model: IamModel, role_suffix: str, sid: str, replacement: dict | None = None) -> IamModel:
    """`model` with one statement of one role taken out (or replaced): the template before a fix."""
    (arn,) = [arn for arn, role in model.roles.items() if role.name.endswith(role_suffix)]
    role = model.roles[arn]
    kept = tuple(s for s in role.statements if s.document.get("Sid") != sid)
    assert len(kept) == len(role.statements) - 1, f"{role.name} has no statement {sid}"
    if replacement is not None:
        kept += (Statement(f"{role.name}/before/{sid}", {"Sid": sid, **replacement}),)
    changed = dataclasses.replace(model)
    changed.roles = {**model.roles, arn: dataclasses.replace(role, statements=kept)}
    return changed


def without_in_policy(model: IamModel, logical_id: str, sid: str) -> IamModel:
    """`model` with one statement of one of the template's managed policies taken out (the models' roles attach it)."""
    (arn,) = [arn for arn, policy in model.managed_policies.items() if policy.logical_id == logical_id]
    policy = model.managed_policies[arn]
    kept = tuple(s for s in policy.statements if s.document.get("Sid") != sid)
    assert len(kept) == len(policy.statements) - 1, f"{policy.name} has no statement {sid}"
    changed = dataclasses.replace(model)
    changed.managed_policies = {**model.managed_policies, arn: dataclasses.replace(policy, statements=kept)}
    return changed


def fold_keys(aws) -> set[str]:
    table = aws.stack.applied.ref("AlertsTable")
    return {item["collapse_key"]["S"] for item in aws.dynamodb.scan(TableName=table)["Items"]}


def forget_folds(aws, keys: set[str]) -> None:
    """This test's alerts must not fold the next test's failures of the same kind (alerts fold for 15 minutes)."""
    for key in keys:
        aws.dynamodb.delete_item(TableName=aws.stack.applied.ref("AlertsTable"), Key={"collapse_key": {"S": key}})


def alerts_naming(aws, action: str) -> list[str]:
    return [json.dumps(post, ensure_ascii=False) for post in aws.slack_posts(action, timeout=30)]


@pytest.mark.access_denied("OnPipelineStatusRole", "states:SendTaskSuccess")
def test_a_pipeline_callback_scoped_to_the_state_machines_is_denied_because_it_takes_no_resource(aws):
    training, inference = (aws.stack.applied.ref(name) for name in ("TrainingStateMachine", "InferenceStateMachine"))
    before = without(aws.stack.iam.model, "OnPipelineStatusRole", "AnswerWaitingRunsNeedsStar", {
        "Effect": "Allow", "Action": ["states:SendTaskSuccess", "states:SendTaskFailure"], "Resource": [training, inference]})
    folds_before = fold_keys(aws)
    with aws.stack.replaced_iam(before):
        aws.drop_training_config("iam-callback")
        aws.stack.runtime.wait_idle()  # the trigger has started the run
        aws.stack.wait_idle()
        # Lambda's destination record of the failed event, on its way to an alert (which may fold into an
        # earlier one of the same kind: docs/alerts.md)
        reported = aws.failures_for(lambda m: "states:SendTaskSuccess" in json.dumps(m))
        waiting = [e for e in aws.sfn.list_executions(stateMachineArn=aws.training_arn, statusFilter="RUNNING")["executions"]
                   if e["name"].startswith("train-iam-callback-")]
    # the run would wait for its callback until the wait's timeout: nothing more to see
    for run in waiting:
        aws.sfn.stop_execution(executionArn=run["executionArn"], error="TestEnded")
    forget_folds(aws, fold_keys(aws) - folds_before)
    assert waiting, "the run should still be waiting for its callback"
    assert reported, "no failure record named the denied callback"
    record = json.dumps(reported[0])
    assert "AccessDeniedException" in record and "mlrelay-dev-OnPipelineStatusRole" in record


@pytest.mark.access_denied("events.amazonaws.com", "lambda:InvokeFunction")
def test_an_event_the_function_does_not_let_eventbridge_deliver_waits_in_the_events_dead_letter_queue(aws):
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{aws.stack.info.functions['on_config_dropped']}"
    before = dataclasses.replace(aws.stack.iam.model)  # the template without the function's Lambda permissions
    before.resource_policies = {arn: policy for arn, policy in aws.stack.iam.model.resource_policies.items() if arn != function}
    before.roles = dict(aws.stack.iam.model.roles)

    with aws.stack.replaced_iam(before):
        aws.drop_training_config("iam-permission")
        aws.stack.runtime.wait_idle()
        started = aws.runs("train-iam-permission-", timeout=0)

    assert started == []
    queue = aws.stack.applied.resources["EventsDeadLetterQueue"].ref
    received = aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
    (message,) = [m for m in received if "configs/train/iam-permission.json" in m["Body"]]
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"
    assert message["MessageAttributes"]["TARGET_ARN"]["StringValue"].startswith(function)


@pytest.mark.access_denied("DecideModelRole", "s3:ListBucket")
def test_a_missing_artifact_answers_404_only_to_a_role_that_may_list_the_bucket(aws):
    key = "runs/iam-missing/train-1/model/model.tar.gz"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=b"model")
    aws.s3.delete_object(Bucket=aws.bucket, Key=key)  # gone: a delete marker in the versioned bucket
    session = aws.stack.iam.model.session(decide_model_role(aws), "lambda.amazonaws.com", "iam-test")

    def status_of_head() -> str:
        with acting_as(session):
            try:
                boto3.client("s3").head_object(Bucket=aws.bucket, Key=key)
            except ClientError as err:
                return str(err.response["Error"]["Code"])
        return "200"

    after = status_of_head()
    with aws.stack.replaced_iam(without(aws.stack.iam.model, "DecideModelRole", "MissingArtifactsAnswerNotFound")):
        before = status_of_head()

    # approvals' exists() takes 404 for "gone" and refuses the version; a 403 would fail the decision instead
    assert (before, after) == ("403", "404")


def decide_model_role(aws) -> str:
    return next(arn for arn, role in aws.stack.iam.model.roles.items() if role.name.endswith("DecideModelRole"))


@pytest.mark.access_denied("TrainingStepRole", "s3:GetObject")
def test_segment_discovery_without_the_data_bucket_fails_plan_segments_saying_access_denied(aws):
    before = without(aws.stack.iam.model, "TrainingStepRole", "ReadTrainingTables")
    with aws.stack.replaced_iam(before):
        data = valid_config()["data"]
        data = {**data, "feature_columns": [c for c in data["feature_columns"] if c != "material"]}
        aws.drop_training_config("iam-segments", data=data, segments={"column": "material", "min_rows": 100})
        aws.stack.runtime.wait_idle()  # the trigger has started the run
        (run,) = aws.runs("train-iam-segments-", machine="segments", timeout=120)
    assert run["status"] == "FAILED"
    (post,) = [p for p in alerts_naming(aws, "iam-segments") if "PlanSegments" in p]
    # a HEAD request's 403 has no body to name the role in, on AWS as here
    assert f"cannot look up {valid_config()['data']['uri']}: 403 (Forbidden)" in post


@pytest.mark.access_denied("iam-metrics", "cloudwatch:PutMetricData")
def test_a_training_job_whose_role_may_not_publish_metrics_fails_at_train(aws):
    before = without_in_policy(aws.stack.iam.model, "ModelJobPolicy", "JobMetricsNeedStar")  # the model's role has it
    with aws.stack.replaced_iam(before):
        aws.drop_training_config("iam-metrics")
        aws.stack.runtime.wait_idle()  # the trigger has started the run
        (run,) = aws.runs("train-iam-metrics-", timeout=120)
    assert run["status"] == "FAILED"
    (post,) = [p for p in alerts_naming(aws, "iam-metrics") if "cloudwatch:PutMetricData" in p]
    assert "AccessDenied" in post and "Train" in post


@pytest.mark.access_denied("iam-image-denied", "ecr:BatchGetImage")
def test_a_custom_image_pulls_only_from_the_repositories_the_stage_lists(aws, tmp_path):
    # the team's own copy of the scikit-learn image, in its account: not SageMaker's registry for the region
    repository = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/sagemaker-scikit-learn"
    image = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    shutil.copytree(CODE / "classifier", tmp_path / "classifier")
    numeric = {**valid_config()["data"], "feature_columns": ["length_cm", "width_cm", "height_cm", "weight_g"]}

    # as the stage is: the team's repository is not in ImageRepositoryArns
    aws.drop_code_config(tmp_path / "classifier", "iam-image-denied", data=numeric, model={"image_uri": image})
    aws.stack.runtime.wait_idle()  # the trigger has started the run
    (denied,) = aws.runs("train-iam-image-denied-", timeout=120)
    with aws.stack.replaced_iam(aws.stack.iam_with(ImageRepositoryArns=repository)):
        aws.drop_code_config(tmp_path / "classifier", "iam-image-listed", data=numeric, model={"image_uri": image})
        aws.stack.runtime.wait_idle()  # the trigger has started the run
        (listed,) = aws.runs("train-iam-image-listed-", timeout=180)

    assert denied["status"] == "FAILED"
    assert listed["status"] == "SUCCEEDED", aws.sfn.describe_execution(executionArn=listed["executionArn"]).get("cause")
    (post,) = [p for p in alerts_naming(aws, "iam-image-denied") if "ecr:BatchGetImage" in p]
    assert "AccessDenied" in post and repository in post
    assert listed["status"] == "SUCCEEDED"


@pytest.mark.access_denied("OnConfigDroppedRole", "kms:Decrypt")
@pytest.mark.access_denied("OnConfigDroppedRole", "kms:GenerateDataKey")
def test_with_a_customer_key_every_role_needs_kms_through_its_services(aws):
    keyed = aws.stack.iam_with(KmsKeyArn=KEY_ARN)
    assert keyed.key_for(f"arn:aws:s3:::{aws.bucket}/configs/train/x.json") == KEY_ARN
    before = without(keyed, "OnConfigDroppedRole", "UseTheStacksKeyThroughItsServices")
    function = aws.stack.info.functions["on_config_dropped"]
    tried = aws.stack.runtime.count(function)

    with aws.stack.replaced_iam(before):
        aws.drop_training_config("iam-kms-before")
        aws.stack.runtime.wait_idle()  # the trigger and its two retries
        denied = aws.runs("train-iam-kms-before-", timeout=0)
    with aws.stack.replaced_iam(keyed):  # every role as the template gives it with the key: a whole run
        aws.drop_training_config("iam-kms-after")
        aws.stack.runtime.wait_idle()  # the trigger has started the run
        (run,) = aws.runs("train-iam-kms-after-", timeout=180)

    assert denied == []
    errors = [i.error for i in aws.stack.runtime.invocations[tried:] if i.function_name == function and not i.succeeded]
    assert len(errors) == 3 and all("kms:Decrypt" in e and "mlrelay-dev-OnConfigDroppedRole" in e for e in errors)
    # Lambda writes the failure to its destination (the failures queue, under the key) with the same role: on AWS
    # the failure would reach nobody. The census holds that denial too (kms:GenerateDataKey, see the markers).
    assert run["status"] == "SUCCEEDED"


@pytest.fixture
def cluster_with_secret(monkeypatch):
    """The functions' warehouse settings as prod's: a provisioned cluster reached with a Secrets Manager secret."""
    monkeypatch.delenv("REDSHIFT_WORKGROUP", raising=False)
    monkeypatch.setenv("REDSHIFT_CLUSTER_ID", "analytics-cluster")
    monkeypatch.setenv("REDSHIFT_SECRET_ARN", SECRET_ARN)
    clients.reset()
    yield
    clients.reset()


@pytest.mark.access_denied("InferenceStepRole", "secretsmanager:GetSecretValue")
def test_a_load_through_a_secret_needs_the_secret_readable_by_the_inference_step(aws, cluster_with_secret):
    parameters = {"RedshiftWorkgroup": "", "RedshiftClusterIdentifier": "analytics-cluster", "RedshiftSecretArn": SECRET_ARN}
    run_statement(aws.data, connection_from(aws.stack.info.outputs),
                  sqls=create_table_sqls(PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))))
    aws.drop_training_config("iam-secret", inference={"daily": False, "monthly": True, "id_column": "item_id"})
    aws.stack.runtime.wait_idle()  # the trigger has started the run
    (trained,) = aws.runs("train-iam-secret-", timeout=180)
    assert trained["status"] == "SUCCEEDED"

    with aws.stack.replaced_iam(aws.stack.iam_with(**{**parameters, "RedshiftSecretArn": ""})):
        denied = aws.monthly_run("iam-secret", "2026-10")
    with aws.stack.replaced_iam(aws.stack.iam_with(**parameters)):
        loaded = aws.monthly_run("iam-secret", "2026-11")

    assert denied["status"] == "FAILED"
    (post,) = [p for p in alerts_naming(aws, "secretsmanager:GetSecretValue") if "iam-secret" in p]
    assert "AccessDenied" in post and SECRET_ARN in post
    assert loaded["status"] == "SUCCEEDED"


def test_the_data_bucket_is_readable_only_when_the_stage_names_it(aws):
    # GIVEN the stage's parameters (infra/parameters/dev.json names the demo's data bucket)
    named = aws.stack.iam.model
    unnamed = aws.stack.iam_with(DataBucketName="")
    sagemaker_role = next(arn for arn, role in named.roles.items() if role.name.endswith("sagemaker-execution"))

    def reads_data(model: IamModel) -> bool:
        return any(DATA_BUCKET in json.dumps(s.document) for s in model.roles[sagemaker_role].statements)

    def model_jobs_read_data(model: IamModel) -> bool:  # the models' roles, through the policy they attach
        return any(DATA_BUCKET in json.dumps(s.document) for policy in model.managed_policies.values() for s in policy.statements)

    assert reads_data(named) and not reads_data(unnamed)
    assert model_jobs_read_data(named) and not model_jobs_read_data(unnamed)


@pytest.mark.access_denied("OnConfigDroppedRole", "states:StartExecution")
def test_a_trigger_that_fails_for_a_reason_of_its_own_is_heard_by_local_drop_in_seconds(aws, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from mlrelay.cli.main import app
    from mlrelay.local.state_file import write_state

    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(aws.stack.info)
    config = tmp_path / "iam-trigger.json"
    config.write_text(json.dumps(valid_config(model_name="iam-trigger")))
    before = without(aws.stack.iam.model, "OnConfigDroppedRole", "StartRuns")
    with aws.stack.replaced_iam(before):
        dropped = CliRunner().invoke(app, ["local", "drop", str(config), "--timeout", "60"], terminal_width=300)
        aws.stack.runtime.wait_idle()  # Lambda's retries of the event, denied too
    forget_folds(aws, fold_keys(aws))

    said = " ".join(dropped.output.split())
    assert dropped.exit_code == 1, dropped.output
    assert "the trigger failed handling s3://" in said and "configs/train/iam-trigger.json" in said
    assert "AccessDenied" in said and "states:StartExecution" in said
    assert "no outcome after" not in said  # heard from the report, not from waiting out the timeout
    assert aws.runs("train-iam-trigger-", timeout=0) == []
