"""Pins the moto internals mlrelay/local/emulated/ relies on, and proves each patch is undone.

When one of these fails after a moto upgrade, read mlrelay/local/emulated/'s
docstrings: either moto now does the thing itself (drop that patch) or the
internal moved (follow it).
"""

import inspect
import json
import re
import threading
import time

import boto3
import moto
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule
from moto.s3.responses import S3Response
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.responses import StepFunctionResponse

from mlrelay.local.emulated import dynamodb, events, lambda_, s3, sagemaker, stepfunctions
from mlrelay.local.faults import FaultPlan
from tests.conftest import ROOT

SFN_PATCHED = ("_normalise_parameters", "_normalise_response", "_eval_service_task")


def test_moto_is_the_pinned_version():
    pinned = re.search(r"^moto\[[^\]]*\]==([\d.]+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)

    assert moto.__version__ == pinned


def test_the_patched_methods_still_have_the_signatures_we_replace():
    assert list(inspect.signature(S3Response.get_object).parameters) == ["self"]
    assert list(inspect.signature(LambdaFunction.invoke).parameters) == ["self", "body", "request_headers", "response_headers"]
    assert list(inspect.signature(Rule.send_to_targets).parameters) == ["self", "original_event", "transform_input"]
    assert list(inspect.signature(SageMakerModelBackend.start_pipeline_execution).parameters) == [
        "self", "pipeline_name", "pipeline_execution_display_name", "pipeline_parameters",
        "pipeline_execution_description", "parallelism_configuration", "client_request_token",
    ]
    assert list(inspect.signature(ExecutionState._evaluate_with_timeout).parameters) == ["self", "env"]
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl

    assert "time.sleep(interval_seconds)" in inspect.getsource(RetrierDecl._eval_body)  # the back-off we scale


def test_a_task_tokens_wait_and_a_stop_still_work_as_the_stepfunctions_patches_expect():
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackPoolManager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    # the stop hook wakes the waits of the execution's callback pool, and keeps a stopped program from turning FAILED
    assert list(inspect.signature(ExecutionWorker.stop).parameters) == ["self", "stop_date", "error", "cause"]
    assert "self._pool = OrderedDict()" in inspect.getsource(CallbackPoolManager.__init__)
    assert "self._notify_event.set()" in inspect.getsource(CallbackEndpoint.interrupt_all)
    assert "self._notify_event.wait(timeout=timeout)" in inspect.getsource(CallbackEndpoint.wait)
    assert list(inspect.signature(Environment.set_error).parameters) == ["self", "error"]
    assert "self._program_state = ProgramError(error=error)" in inspect.getsource(Environment.set_error)  # even when stopped
    # the one-answer hook finds the execution a token belongs to, and whether its task was answered
    from moto.stepfunctions.parser.backend.execution import Execution

    assert "return self._outcome" in inspect.getsource(CallbackEndpoint.get_outcome)
    assert "exec_status: ExecutionStatus" in inspect.getsource(Execution)
    assert "callback_pool_manager.notify" in inspect.getsource(StepFunctionsParserBackend.send_task_success)
    assert list(inspect.signature(StepFunctionsParserBackend._get_executions).parameters) == ["self", "execution_status"]
    assert list(inspect.signature(StepFunctionResponse.send_task_success).parameters) == ["self"]


def test_every_attempt_of_an_execution_state_still_goes_through_evaluate_with_timeout():
    # the fault hook sits there, inside the retry loop and before the Catch
    assert "self._evaluate_with_timeout(env)" in inspect.getsource(ExecutionState._eval_state)
    # ... and the errors it raises are turned into failure events by the state's own _from_error
    assert "self._from_error(env=env, ex=ex)" in inspect.getsource(ExecutionState._eval_state)
    owners = {cls.__name__ for cls in stepfunctions.classes_with_own_from_error()}
    assert {"StateTaskServiceDynamoDB", "StateTaskServiceLambda", "StateTaskServiceAwsSdk"} <= owners
    for cls in stepfunctions.classes_with_own_from_error():
        assert list(inspect.signature(cls.__dict__["_from_error"]).parameters) == ["self", "env", "ex"]


def test_moto_still_lacks_what_the_sagemaker_and_stepfunctions_patches_add():
    from moto.sagemaker.models import FakePipelineExecution
    from moto.stepfunctions.responses import StepFunctionResponse

    assert not hasattr(SageMakerResponse, "list_pipeline_execution_steps")
    assert not hasattr(SageMakerResponse, "retry_pipeline_execution")
    assert not hasattr(SageMakerResponse, "delete_model_package") and not hasattr(SageMakerResponse, "delete_model_package_group")
    assert 'self.pipeline_execution_status = "Succeeded"' in inspect.getsource(FakePipelineExecution.__init__)
    assert "cause" not in inspect.getsource(StepFunctionResponse.send_task_failure)


def test_moto_still_passes_start_execution_parameters_to_boto3_as_the_state_names_them():
    # If moto starts casing them itself (or naming answers as Step Functions does), drop the startExecution patch.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn

    assert inspect.getsource(StateTaskService._normalise_parameters).strip().endswith("pass")
    assert inspect.getsource(StateTaskService._normalise_response).strip().endswith("pass")
    assert "_normalise_response" not in StateTaskServiceSfn.__dict__
    assert 'submission_output["ExecutionArn"]' in inspect.getsource(StateTaskServiceSfn._build_sync2_resolver)
    assert list(inspect.signature(StateTaskServiceSfn._eval_service_task).parameters) == [
        "self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials",
    ]


def test_s3_still_sends_eventbridge_events_unlike_aws():
    # If moto starts sending ISO time and "etag", drop that part of the events patch.
    source = inspect.getsource(__import__("moto.s3.notifications", fromlist=["x"])._send_event_bridge_message)

    assert 'event["time"] = unix_time()' in source
    assert '"eTag": key.etag' in source


@pytest.fixture
def aws():
    with mock_aws():  # in-memory moto
        yield


def test_without_the_patch_moto_cannot_deliver_to_a_lambda_target(aws):
    rule = _rule_with_lambda_target()

    with pytest.raises(NotImplementedError):
        rule.send_to_targets(_moto_s3_event(), transform_input=False)


def test_with_the_patch_eventbridge_invokes_lambda_asynchronously_with_aws_shaped_s3_events(aws):
    calls = []
    rule = _rule_with_lambda_target()
    moto_event = _moto_s3_event()

    with events.patched(lambda name, event, kind: calls.append((name, event, kind))):
        rule.send_to_targets(moto_event, transform_input=False)

    ((name, event, kind),) = calls
    assert (name, kind) == ("fn", "Event")
    assert event["time"] == "2026-11-18T11:06:40Z"
    assert event["detail"]["object"] == {"key": "k", "etag": "abc"}
    assert moto_event["detail"]["object"] == {"key": "k", "eTag": "abc"}  # moto's own copy untouched


def test_with_the_patch_invoke_runs_the_router_and_reports_errors_as_lambda_does(aws):
    def router(name, event, kind):
        if event.get("fail"):
            raise ValueError("bad input")
        return json.dumps({"echo": event, "kind": kind}).encode()

    client = _lambda_function()
    with lambda_.patched(router):
        ok = client.invoke(FunctionName="fn", Payload=b'{"a": 1}')
        failed = client.invoke(FunctionName="fn", Payload=b'{"fail": true}')

    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}, "kind": "RequestResponse"}
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {"errorType": "ValueError", "errorMessage": "bad input"}


def test_leaving_the_patches_restores_moto_exactly():
    before = {
        "invoke": LambdaFunction.invoke, "send_to_targets": Rule.send_to_targets,
        "start": SageMakerModelBackend.start_pipeline_execution, "evaluate": ExecutionState._evaluate_with_timeout,
        "wait": WaitFunction._wait_interval, "time": retrier_decl.time,
        "from_error": {cls: cls.__dict__["_from_error"] for cls in stepfunctions.classes_with_own_from_error()},
        "sfn": {name: StateTaskServiceSfn.__dict__.get(name) for name in SFN_PATCHED},
        "stop": ExecutionWorker.stop, "set_error": Environment.set_error,
        "answers": (StepFunctionResponse.send_task_success, StepFunctionResponse.send_task_failure),
        "lookups": (sagemaker_models.get_pipeline_from_name, sagemaker_models.get_pipeline_execution_from_arn),
    }

    with lambda_.patched(lambda *a: b""), events.patched(lambda *a: b""), stepfunctions.patched(FaultPlan(), 0.1), \
            sagemaker.patched(lambda *a: None, lambda *a: None, lambda e: [], lambda *a: None):
        assert LambdaFunction.invoke is not before["invoke"] and retrier_decl.time is not before["time"]
        assert hasattr(SageMakerResponse, "retry_pipeline_execution")

    after = {
        "invoke": LambdaFunction.invoke, "send_to_targets": Rule.send_to_targets,
        "start": SageMakerModelBackend.start_pipeline_execution, "evaluate": ExecutionState._evaluate_with_timeout,
        "wait": WaitFunction._wait_interval, "time": retrier_decl.time,
        "from_error": {cls: cls.__dict__["_from_error"] for cls in stepfunctions.classes_with_own_from_error()},
        "sfn": {name: StateTaskServiceSfn.__dict__.get(name) for name in SFN_PATCHED},
        "stop": ExecutionWorker.stop, "set_error": Environment.set_error,
        "answers": (StepFunctionResponse.send_task_success, StepFunctionResponse.send_task_failure),
        "lookups": (sagemaker_models.get_pipeline_from_name, sagemaker_models.get_pipeline_execution_from_arn),
    }
    assert after == before
    assert not hasattr(SageMakerResponse, "retry_pipeline_execution")
    assert not hasattr(SageMakerResponse, "list_pipeline_execution_steps")
    assert not hasattr(SageMakerResponse, "delete_model_package")


def test_with_the_patch_a_model_package_and_then_its_empty_group_can_be_deleted(aws):
    client = boto3.client("sagemaker", region_name="us-east-1")
    client.create_model_package_group(ModelPackageGroupName="g")
    arn = client.create_model_package(ModelPackageGroupName="g", ModelApprovalStatus="Approved")["ModelPackageArn"]

    with sagemaker.patched(lambda *a: None, lambda *a: None, lambda e: [], lambda *a: None):
        with pytest.raises(client.exceptions.ClientError, match="still holds model packages"):
            client.delete_model_package_group(ModelPackageGroupName="g")
        client.delete_model_package(ModelPackageName=arn)
        client.delete_model_package_group(ModelPackageGroupName="g")

    assert client.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert client.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"] == []


def test_moto_still_leaves_a_buckets_eventbridge_setting_out_of_its_notification_configuration(aws):
    client = _bucket_sending_to_eventbridge()

    assert "EventBridgeConfiguration" not in client.get_bucket_notification_configuration(Bucket="with-events")


def test_with_the_patch_a_bucket_reports_its_eventbridge_setting_as_aws_does(aws):
    client = _bucket_sending_to_eventbridge()
    client.create_bucket(Bucket="without-events")
    before = S3Response.get_bucket_notification

    with s3.patched(FaultPlan()):
        sending = client.get_bucket_notification_configuration(Bucket="with-events")
        silent = client.get_bucket_notification_configuration(Bucket="without-events")

    assert sending["EventBridgeConfiguration"] == {}
    assert "EventBridgeConfiguration" not in silent
    assert S3Response.get_bucket_notification is before


def test_moto_still_lacks_get_account_settings_and_enforces_unreserved_concurrency_only_when_told(aws):
    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse

    assert not hasattr(LambdaResponse, "get_account_settings")
    assert not any("account-settings" in path for path in urls.url_paths)
    assert "MOTO_LAMBDA_CONCURRENCY_QUOTA" in inspect.getsource(__import__("moto.awslambda.models", fromlist=["x"]).LambdaBackend)


def test_with_the_patch_lambda_limits_concurrency_as_aws_does_and_reports_it(aws):
    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse

    client = _lambda_function()
    with lambda_.patched(lambda *a: b""):
        client.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=800)
        settings = client.get_account_settings()["AccountLimit"]
        with pytest.raises(client.exceptions.InvalidParameterValueException, match="below its minimum value of \\[100\\]"):
            client.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=901)

    assert (settings["ConcurrentExecutions"], settings["UnreservedConcurrentExecutions"]) == (1000, 200)
    assert not hasattr(LambdaResponse, "get_account_settings")
    assert not any("account-settings" in path for path in urls.url_paths)


def test_a_time_scale_shortens_retry_back_offs_and_leaving_restores_them():
    with stepfunctions.patched(FaultPlan(), time_scale=0.1):
        started = time.monotonic()
        retrier_decl.time.sleep(1.0)
        assert time.monotonic() - started < 0.5


def test_with_the_patch_pipeline_executions_go_to_the_runner_once_per_token(aws):
    started = []
    sagemaker_client = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker_client.create_pipeline(PipelineName="p", PipelineDefinition='{"Steps": []}', RoleArn="arn:aws:iam::123456789012:role/r")

    with sagemaker.patched(
        lambda pipeline, execution: started.append(execution.arn), lambda *a: None,
        lambda execution: [{"StepName": "Split", "StepStatus": "Executing"}], lambda *a: None,
    ):
        first = sagemaker_client.start_pipeline_execution(PipelineName="p", ClientRequestToken="t" * 32)["PipelineExecutionArn"]
        again = sagemaker_client.start_pipeline_execution(PipelineName="p", ClientRequestToken="t" * 32)["PipelineExecutionArn"]
        other = sagemaker_client.start_pipeline_execution(PipelineName="p", ClientRequestToken="u" * 32)["PipelineExecutionArn"]
        steps = sagemaker_client.list_pipeline_execution_steps(PipelineExecutionArn=first)["PipelineExecutionSteps"]
        described = sagemaker_client.describe_pipeline_execution(PipelineExecutionArn=first)

    assert first == again != other
    assert started == [first, other]
    assert steps == [{"StepName": "Split", "StepStatus": "Executing"}]
    assert described["FailureReason"] == ""


def test_with_the_patch_a_model_package_status_change_is_announced_once_and_keeps_its_metadata(aws):
    sagemaker_client = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker_client.create_model_package_group(ModelPackageGroupName="g")
    arn = sagemaker_client.create_model_package(
        ModelPackageGroupName="g", ModelApprovalStatus="PendingManualApproval", CustomerMetadataProperties={"run_id": "r1"},
        InferenceSpecification={"Containers": [{"Image": "i"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["application/jsonlines"]},
    )["ModelPackageArn"]
    announced = []

    with sagemaker.patched(lambda *a: None, lambda *a: None, lambda e: [], lambda detail, arn: announced.append(detail)):
        sagemaker_client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
        sagemaker_client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="again")

    assert [(d["ModelPackageGroupName"], d["ModelPackageVersion"], d["ModelApprovalStatus"]) for d in announced] == [("g", 1, "Approved")]
    assert sagemaker_client.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"] == {"run_id": "r1"}


def _lambda_function():
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(FunctionName="fn", Runtime="python3.11", Role=role, Handler="app.h", Code={"ZipFile": b"x"})
    return client


def _rule_with_lambda_target():
    from moto.events.models import events_backends

    client = boto3.client("events", region_name="us-east-1")
    client.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.s3"]}))
    client.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:fn"}])
    return events_backends["123456789012"]["us-east-1"].event_buses["default"].rules["r"]


def _moto_s3_event():
    """An S3 event as moto builds it (see moto.s3.notifications._send_event_bridge_message)."""
    import copy

    from moto.events.utils import _BASE_EVENT_MESSAGE

    event = copy.deepcopy(_BASE_EVENT_MESSAGE)
    event.update({"source": "aws.s3", "detail-type": "Object Created", "time": 1795000000.5})
    event["detail"] = {"object": {"key": "k", "eTag": "abc"}}
    return event


def test_moto_still_writes_dynamodb_items_through_the_methods_the_lock_wraps():
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for name in dynamodb.WRITES:
        assert "self" in inspect.signature(getattr(DynamoDBBackend, name)).parameters, name
    # the write hold reads the table as the first argument and the condition as a keyword
    assert "self.dynamodb_backend.update_item(\n            name," in inspect.getsource(DynamoHandler.update_item)
    assert "condition_expression=condition_expression," in inspect.getsource(DynamoHandler.update_item)


@mock_aws
def test_of_many_racing_conditional_writes_to_one_item_exactly_one_wins():
    # Without the patch, two of sixteen such writes win in about half the rounds (moto 5.2.5, checked).
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")

    def race(key):
        wins, start = [], threading.Barrier(16)

        def claim(n):
            start.wait()
            try:
                client.update_item(TableName="t", Key={"k": {"S": key}}, UpdateExpression="SET claimed_by = :n",
                                   ConditionExpression="attribute_not_exists(claimed_by)",
                                   ExpressionAttributeValues={":n": {"S": str(n)}})
                wins.append(n)
            except client.exceptions.ConditionalCheckFailedException:
                pass

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return wins

    with dynamodb.patched():
        rounds = {f"run-{i}": race(f"run-{i}") for i in range(8)}

    for key, wins in rounds.items():
        (winner,) = wins
        assert client.get_item(TableName="t", Key={"k": {"S": key}})["Item"]["claimed_by"]["S"] == str(winner)


@mock_aws
def test_reads_answered_as_json_equal_moto_s_own_answers_and_binary_values_keep_its_way():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "v", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}, {"AttributeName": "v", "AttributeType": "N"}],
                        BillingMode="PAY_PER_REQUEST")
    every_type = {"s": {"S": "é ✓"}, "n": {"N": "-1.50"}, "t": {"BOOL": True}, "z": {"NULL": True}, "ss": {"SS": ["a", "b"]},
                  "ns": {"NS": ["1", "2.5"]}, "l": {"L": [{"S": "x"}, {"M": {"deep": {"N": "3"}}}]},
                  "m": {"M": {"metric": {"M": {"value": {"N": "0.91"}, "ci": {"L": [{"N": "0.9"}, {"N": "0.92"}]}}}}}}
    for version in range(3):
        client.put_item(TableName="t", Item={"k": {"S": "model"}, "v": {"N": str(version)}, **every_type})
    client.put_item(TableName="t", Item={"k": {"S": "binary"}, "v": {"N": "0"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01"]}})

    def reads():
        return [
            client.query(TableName="t", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "model"}}, Limit=2),
            client.scan(TableName="t", ProjectionExpression="k, v, m.metric", ReturnConsumedCapacity="TOTAL"),
            client.get_item(TableName="t", Key={"k": {"S": "binary"}, "v": {"N": "0"}}),
            client.batch_get_item(RequestItems={"t": {"Keys": [{"k": {"S": "model"}, "v": {"N": "1"}}]}}),
        ]

    def without_metadata(answers):
        return [{key: value for key, value in answer.items() if key != "ResponseMetadata"} for answer in answers]

    own = without_metadata(reads())
    with dynamodb.patched():
        as_json = without_metadata(reads())

    assert as_json == own
    assert own[2]["Item"]["b"] == {"B": b"\x00\xff"} and own[0]["LastEvaluatedKey"] == {"k": {"S": "model"}, "v": {"N": "1"}}


def test_every_request_moto_serves_still_asks_the_one_authorization_method_the_iam_patch_replaces():
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse

    assert list(inspect.signature(ActionAuthenticatorMixin._authenticate_and_authorize_action).parameters) == [
        "self", "iam_request_cls", "resource",
    ]
    assert "self._authenticate_and_authorize_normal_action(resource)" in inspect.getsource(BaseResponse.call_action)
    assert "_authenticate_and_authorize_action(S3IAMRequest, resource)" in inspect.getsource(
        ActionAuthenticatorMixin._authenticate_and_authorize_s3_action)
    from moto.s3.models import FakeDeleteMarker

    assert FakeDeleteMarker.__name__ == "FakeDeleteMarker"  # a deleted key's marker: missing, for the 403-or-404 answer


def test_moto_still_signs_step_functions_service_calls_with_a_fixed_key_given_the_state_machines_role():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    from mlrelay.local.emulated import iam

    assert list(inspect.signature(boto_client_for).parameters) == ["region", "service", "state_credentials"]
    assert 'aws_access_key_id="ak"' in inspect.getsource(boto_client_for)  # no principal moto could tell apart
    assert "role_arn=env.aws_execution_details.role_arn" in inspect.getsource(StateTask._eval_state_credentials)
    assert "role_arn" in StateCredentials.__dataclass_fields__
    importers = {module.__name__.rsplit(".", 1)[-1] for module in iam._step_functions_client_modules()}
    assert {"state_task_service_aws_sdk", "lambda_eval_utils", "state_task_service_sfn", "state_task_service_dynamodb"} <= importers


def test_the_iam_patch_is_undone():
    from concurrent.futures import ThreadPoolExecutor

    import botocore.session
    from moto.core.authorization import ActionAuthenticatorMixin

    from mlrelay.local.emulated import iam
    from mlrelay.local.iam.authorizer import Authorizer
    from mlrelay.local.iam.principals import IamModel
    from mlrelay.local.iam.resources import Lookups

    before = (botocore.session.Session.get_credentials, ThreadPoolExecutor.submit,
              ActionAuthenticatorMixin._authenticate_and_authorize_action)
    with iam.patched(Authorizer(IamModel("123456789012"), {"k"}, Lookups(), "us-east-1"), lambda arn: None):
        assert ActionAuthenticatorMixin._authenticate_and_authorize_action is not before[2]
    assert (botocore.session.Session.get_credentials, ThreadPoolExecutor.submit,
            ActionAuthenticatorMixin._authenticate_and_authorize_action) == before


def _bucket_sending_to_eventbridge():
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="with-events")
    client.put_bucket_notification_configuration(Bucket="with-events", NotificationConfiguration={"EventBridgeConfiguration": {}})
    return client


@mock_aws
def test_moto_still_resets_an_alarm_it_updates_and_the_patch_keeps_its_state_as_cloudwatch_does():
    from mlrelay.local.emulated import cloudwatch as cloudwatch_patch

    client = boto3.client("cloudwatch", region_name="us-east-1")
    alarm = {"AlarmName": "e-model-errors", "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
             "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.0,
             "ComparisonOperator": "GreaterThanThreshold"}

    def state_after_an_update() -> str:
        client.put_metric_alarm(**alarm)
        client.set_alarm_state(AlarmName="e-model-errors", StateValue="ALARM", StateReason="5xx answers")
        client.put_metric_alarm(**alarm)
        return client.describe_alarms(AlarmNames=["e-model-errors"])["MetricAlarms"][0]["StateValue"]

    assert state_after_an_update() == "OK"  # moto's: the update is a new alarm
    with cloudwatch_patch.patched():
        assert state_after_an_update() == "ALARM"
