"""GIVEN a scikit-learn model deployed to a real-time endpoint on the embedded stack, THEN it is created, invoked,
updated blue/green, rolled back and deleted through the same boto3 calls as on SageMaker, with SageMaker's statuses
and errors (mlrelay/local/endpoints.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlrelay.local import job_processes
from mlrelay.local.state_file import ACCOUNT_ID, REGION
from tests.functional import endpoint_models as em

pytestmark = pytest.mark.functional

BUCKET = "mlrelay-endpoint-tests"


@dataclass
class Served:
    sagemaker: Any  # boto3 clients
    runtime: Any
    role: str
    blue: Path
    green: Path
    python: str

    def endpoint(self, model_data: str, program: str = "serve.py", serverless: bool = False, multi_model: bool = False) -> str:
        """A new endpoint (and its model and configuration), named after a fresh id; not waited for."""
        name = f"ep-{uuid.uuid4().hex[:8]}"
        self.config(name, model_data, program, serverless, multi_model)
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        return name

    def config(self, name: str, model_data: str, program: str = "serve.py", serverless: bool = False,
               multi_model: bool = False) -> str:
        em.create_model(self.sagemaker, name, self.role, model_data, f"s3://{BUCKET}/code/sourcedir.tar.gz", program, multi_model)
        em.create_config(self.sagemaker, name, name, serverless)
        return name

    def invoke(self, name: str, rows: str = em.ROWS, **extra: str) -> dict:
        response = self.runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Accept="text/csv", Body=rows, **extra)
        return {**response, "Body": response["Body"].read().decode()}


@pytest.fixture(scope="module")
def served(stack, tmp_path_factory):
    folder = tmp_path_factory.mktemp("endpoint-models")
    python = em.image_python(folder / "env.log")
    blue, green = em.fit(python, folder / "blue"), em.fit(python, folder / "green", flip=True)
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="blue/model.tar.gz", Body=em.tar_folder(blue))
    s3.put_object(Bucket=BUCKET, Key="green/model.tar.gz", Body=em.tar_folder(green))
    s3.put_object(Bucket=BUCKET, Key="mme/a.tar.gz", Body=em.tar_folder(blue))
    s3.put_object(Bucket=BUCKET, Key="mme/b.tar.gz", Body=em.tar_folder(green))
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=em.tar_folder(em.CODE))
    role = em.model_role(stack.client("iam"), "endpoint-tests-model-role", BUCKET)
    return Served(stack.client("sagemaker"), stack.client("sagemaker-runtime"), role, blue, green, python)


BLUE_DATA, GREEN_DATA = f"s3://{BUCKET}/blue/model.tar.gz", f"s3://{BUCKET}/green/model.tar.gz"


def test_an_endpoint_loads_its_model_then_answers_as_predict_does(stack, served):
    name = served.endpoint(BLUE_DATA)

    assert served.sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
    assert stack.endpoints.wait_settled(name, 120) == "InService"
    answer = served.invoke(name)

    assert answer["Body"] == em.direct(served.python, served.blue, em.ROWS)
    assert answer["ContentType"] == "text/csv"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    described = served.sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == name and "FailureReason" not in described
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    assert "PendingDeploymentSummary" not in described
    assert stack.endpoints.history(name) == ["Creating", "InService"]


def test_the_errors_are_sagemakers(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)

    with pytest.raises(ClientError) as user_code:
        served.invoke(name, rows="1,2,3,4,5\n")
    with pytest.raises(ClientError) as unknown:
        served.invoke("no-such-endpoint")
    with pytest.raises(ClientError) as too_large:
        served.invoke(name, rows="1,2,3,4\n" * (6 * 1024 * 1024 // 8 + 1))

    assert user_code.value.response["Error"]["Code"] == "ModelError"
    assert user_code.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert ('Received server error (500) from primary with message "ValueError: expected 4 features per row, got 5". '
            f"See https://{REGION}.console.aws.amazon.com/cloudwatch/") in user_code.value.response["Error"]["Message"]
    assert unknown.value.response["Error"]["Code"] == "ValidationError"
    assert unknown.value.response["Error"]["Message"] == f"Endpoint no-such-endpoint of account {ACCOUNT_ID} not found."
    assert too_large.value.response["Error"]["Code"] == "ValidationError"
    assert served.invoke(name)["Body"] == em.direct(served.python, served.blue, em.ROWS)  # the host still serves


def test_a_model_fn_that_raises_fails_the_create_naming_its_line(stack, served):
    name = served.endpoint(BLUE_DATA, program="broken.py")

    assert stack.endpoints.wait_settled(name, 120) == "Failed"
    reason = served.sagemaker.describe_endpoint(EndpointName=name)["FailureReason"]

    assert "production variant AllTraffic did not pass the ping health check" in reason
    assert "ValueError: model.joblib was written by an incompatible library version (broken.py, line 7, in model_fn)" in reason
    with pytest.raises(ClientError, match="Cannot update failed endpoint"):
        served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=name)


def test_a_canary_update_sends_its_share_to_the_new_model_then_all_traffic(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    green = served.config(f"{name}-green", GREEN_DATA)
    blue_answer, green_answer = (em.direct(served.python, m, em.ROWS) for m in (served.blue, served.green))

    served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=green, DeploymentConfig={"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                                        "WaitIntervalInSeconds": 60},  # 6 s on the tests' clock, from the green's load
        "TerminationWaitInSeconds": 10}})
    updating = served.sagemaker.describe_endpoint(EndpointName=name)
    assert updating["EndpointStatus"] == "Updating" and updating["EndpointConfigName"] == name
    assert updating["PendingDeploymentSummary"]["EndpointConfigName"] == green
    with pytest.raises(ClientError, match=f'Cannot update in-progress endpoint "arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:endpoint/{name}"'):
        served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=green)
    for _ in range(600):  # until the green fleet has loaded and takes its share
        if served.invoke(name)["Body"] == green_answer:
            break
    canary = [served.invoke(name)["Body"] for _ in range(10)]

    assert canary.count(green_answer) == 5 and canary.count(blue_answer) == 5
    assert stack.endpoints.wait_settled(name, 120) == "InService"
    done = served.sagemaker.describe_endpoint(EndpointName=name)
    assert done["EndpointConfigName"] == green and "FailureReason" not in done
    assert done["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert {served.invoke(name)["Body"] for _ in range(5)} == {green_answer}
    assert len(stack.endpoints.host_pids(name)) == 1  # the blue host ended


def test_an_alarm_in_alarm_rolls_the_update_back(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    green = served.config(f"{name}-green", GREEN_DATA)
    cloudwatch = stack.client("cloudwatch")
    alarm = f"{name}-errors"
    cloudwatch.put_metric_alarm(AlarmName=alarm, MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker", Statistic="Sum",
                                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="the test's")

    served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=green, DeploymentConfig={
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 30}},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}})

    assert stack.endpoints.wait_settled(name, 120) == "InService"
    described = served.sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == name
    assert f"the CloudWatch alarm {alarm} went into ALARM state" in described["FailureReason"]
    assert stack.endpoints.history(name) == ["Creating", "InService", "Updating", "RollingBack", "InService"]
    assert served.invoke(name)["Body"] == em.direct(served.python, served.blue, em.ROWS)


@pytest.mark.access_denied("endpoint-tests-blind-role", "cloudwatch:DescribeAlarms")
def test_an_update_whose_execution_role_cannot_read_its_rollback_alarm_is_rolled_back_naming_it(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    blind = em.model_role(stack.client("iam"), "endpoint-tests-blind-role", BUCKET, watch_alarms=False)
    green = f"{name}-blind"
    em.create_model(served.sagemaker, green, blind, GREEN_DATA, f"s3://{BUCKET}/code/sourcedir.tar.gz")
    em.create_config(served.sagemaker, green, green)
    alarm = f"{name}-errors"
    stack.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm, MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")

    served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=green, DeploymentConfig={
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}})

    assert stack.endpoints.wait_settled(name, 120) == "InService"
    described = served.sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == name
    assert f"the execution role {blind} cannot read the auto-rollback alarm {alarm}" in described["FailureReason"]
    assert "cloudwatch:DescribeAlarms" in described["FailureReason"]


def test_an_update_whose_model_cannot_load_keeps_the_old_configuration(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    broken = served.config(f"{name}-broken", GREEN_DATA, program="broken.py")

    served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=broken)

    assert stack.endpoints.wait_settled(name, 120) == "InService"
    described = served.sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointConfigName"] == name
    assert f"Update to endpoint configuration {broken} was rolled back" in described["FailureReason"]
    assert "ValueError: model.joblib was written by an incompatible library version" in described["FailureReason"]


def test_an_update_names_what_does_not_exist(served):
    with pytest.raises(ClientError, match="Could not find endpoint 'arn:aws:sagemaker:.*:endpoint/no-such-endpoint'"):
        served.sagemaker.update_endpoint(EndpointName="no-such-endpoint", EndpointConfigName="x")
    name = served.endpoint(BLUE_DATA)
    with pytest.raises(ClientError, match="Could not find endpoint configuration '.*endpoint-config/no-such-config'"):
        served.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="no-such-config")


def test_a_multi_model_endpoint_loads_each_target_on_its_first_request(stack, served):
    name = served.endpoint(f"s3://{BUCKET}/mme/", multi_model=True)
    assert stack.endpoints.wait_settled(name, 120) == "InService"

    with pytest.raises(ClientError, match="must name a TargetModel"):
        served.invoke(name)
    first_a, again_a = served.invoke(name, TargetModel="a.tar.gz"), served.invoke(name, TargetModel="a.tar.gz")
    first_b = served.invoke(name, TargetModel="b.tar.gz")
    with pytest.raises(ClientError) as missing:
        served.invoke(name, TargetModel="missing.tar.gz")

    assert first_a["Body"] == again_a["Body"] == em.direct(served.python, served.blue, em.ROWS)
    assert first_b["Body"] == em.direct(served.python, served.green, em.ROWS)
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert missing.value.response["Error"]["Message"].startswith(
        f"Failed to download model data(bucket: {BUCKET}, key: mme/missing.tar.gz).")
    assert len(stack.endpoints.host_pids(name)) == 1  # both targets in the one warm host


def test_a_serverless_endpoint_reports_its_serverless_config(stack, served):
    name = served.endpoint(BLUE_DATA, serverless=True)
    stack.endpoints.wait_settled(name, 120)

    variant = served.sagemaker.describe_endpoint(EndpointName=name)["ProductionVariants"][0]

    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    with pytest.raises(ClientError, match="larger than the 4 MB"):
        served.invoke(name, rows="1,2,3,4\n" * (4 * 1024 * 1024 // 8 + 1))


def test_delete_ends_the_hosts(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    pids = stack.endpoints.host_pids(name)

    served.sagemaker.delete_endpoint(EndpointName=name)

    assert pids and not any(job_processes.alive(pid) for pid in pids)
    with pytest.raises(ClientError, match="not found"):
        served.invoke(name)


@pytest.mark.access_denied("-caller", "sagemaker:InvokeEndpoint")
def test_invoking_needs_sagemaker_invoke_endpoint_on_the_endpoint(stack, served):
    name = served.endpoint(BLUE_DATA)
    stack.endpoints.wait_settled(name, 120)
    iam = stack.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=f"{name}-caller", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    endpoint_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:endpoint/{name}"

    def caller(resource: str):
        iam.put_role_policy(RoleName=f"{name}-caller", PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": resource}]}))
        session = stack.iam.model.session(role, "lambda.amazonaws.com", f"{name}-caller")
        return boto3.client("sagemaker-runtime", region_name=REGION, endpoint_url=stack.info.endpoint,
                            aws_access_key_id=session.access_key, aws_secret_access_key=session.secret_key,
                            aws_session_token="mlrelay-local-session")

    with pytest.raises(ClientError) as denied:
        caller(f"{endpoint_arn}-other").invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=em.ROWS)
    allowed = caller(endpoint_arn).invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=em.ROWS)

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"is not authorized to perform: sagemaker:InvokeEndpoint on resource: {endpoint_arn}" in str(denied.value)
    assert allowed["Body"].read().decode() == em.direct(served.python, served.blue, em.ROWS)


def test_a_request_past_the_invocation_timeout_is_a_model_error_and_the_next_one_is_served(stack, served, monkeypatch):
    name = served.endpoint(BLUE_DATA, program="slow.py")
    stack.endpoints.wait_settled(name, 120)
    monkeypatch.setattr(stack.endpoints, "invocation_timeout_seconds", 1)  # SageMaker's 60 s, shortened

    with pytest.raises(ClientError) as timed_out:
        served.invoke(name)

    assert timed_out.value.response["Error"]["Code"] == "ModelError"
    assert "Your invocation timed out while waiting for a response from container primary" in str(timed_out.value)
    monkeypatch.setattr(stack.endpoints, "invocation_timeout_seconds", 60)
    assert served.invoke(name)["Body"] == em.direct(served.python, served.blue, em.ROWS)  # a fresh host
