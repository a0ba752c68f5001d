"""Pins the moto internals mlrelay/local/moto_patches.py relies on.

When one of these fails after a moto upgrade, read the patch module's
docstring: either moto now does the thing itself (drop that patch) or the
internal moved (follow it).
"""

import inspect
import json
import re
import time

import boto3
import moto
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule

from mlrelay.local import moto_patches
from tests.conftest import ROOT


def test_moto_is_the_pinned_version():
    pinned = re.search(r"^moto\[[^\]]*\]==([\d.]+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)

    assert moto.__version__ == pinned


def test_the_patched_methods_still_have_the_signatures_we_replace():
    assert list(inspect.signature(moto_patches._original_lambda_invoke).parameters) == [
        "self", "body", "request_headers", "response_headers",
    ]
    assert list(inspect.signature(moto_patches._original_send_to_targets).parameters) == [
        "self", "original_event", "transform_input",
    ]
    assert list(inspect.signature(moto_patches._original_start_pipeline_execution).parameters) == list(
        inspect.signature(moto_patches._start_pipeline_execution).parameters
    )
    assert list(inspect.signature(moto_patches._original_evaluate_with_timeout).parameters) == ["self", "env"]
    assert list(inspect.signature(moto_patches._original_wait_interval).parameters) == ["self", "env", "wait_seconds"]
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl

    assert "time.sleep(interval_seconds)" in inspect.getsource(RetrierDecl._eval_body)  # the back-off we scale


def test_every_attempt_of_an_execution_state_still_goes_through_evaluate_with_timeout():
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    # the fault hook sits there, inside the retry loop and before the Catch
    assert "self._evaluate_with_timeout(env)" in inspect.getsource(ExecutionState._eval_state)
    # ... and the errors it raises are turned into failure events by the state's own _from_error
    assert "self._from_error(env=env, ex=ex)" in inspect.getsource(ExecutionState._eval_state)
    owners = {cls.__name__ for cls in moto_patches._original_from_error}
    assert {"StateTaskServiceDynamoDB", "StateTaskServiceLambda", "StateTaskServiceAwsSdk"} <= owners
    for original in moto_patches._original_from_error.values():
        assert list(inspect.signature(original).parameters) == ["self", "env", "ex"]


def test_moto_still_lacks_what_the_sagemaker_and_stepfunctions_patches_add(aws):
    from moto.sagemaker.models import FakePipelineExecution
    from moto.sagemaker.responses import SageMakerResponse

    assert not hasattr(SageMakerResponse, "list_pipeline_execution_steps")
    assert not hasattr(SageMakerResponse, "retry_pipeline_execution")
    assert 'self.pipeline_execution_status = "Succeeded"' in inspect.getsource(FakePipelineExecution.__init__)
    assert "cause" not in inspect.getsource(moto_patches._original_send_task_failure)


def test_s3_still_sends_eventbridge_events_unlike_aws():
    # If moto starts sending ISO time and "etag", drop that part of the patch.
    source = inspect.getsource(__import__("moto.s3.notifications", fromlist=["x"])._send_event_bridge_message)

    assert 'event["time"] = unix_time()' in source
    assert '"eTag": key.etag' in source


@pytest.fixture
def aws():
    # In-memory moto; leaves the patches as it found them.
    saved_router = moto_patches.installed_router()
    moto_patches.uninstall()
    with mock_aws():
        yield
    moto_patches.uninstall()
    if saved_router is not None:
        moto_patches.install(saved_router)


def test_without_the_patch_moto_cannot_deliver_to_a_lambda_target(aws):
    rule = _rule_with_lambda_target()

    with pytest.raises(NotImplementedError):
        rule.send_to_targets(_moto_s3_event(), transform_input=False)


def test_with_the_patch_eventbridge_invokes_lambda_asynchronously_with_aws_shaped_s3_events(aws):
    calls = []
    moto_patches.install(lambda name, event, kind: calls.append((name, event, kind)))
    rule = _rule_with_lambda_target()
    moto_event = _moto_s3_event()

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

    moto_patches.install(router)
    client = _lambda_function()

    ok = client.invoke(FunctionName="fn", Payload=b'{"a": 1}')
    failed = client.invoke(FunctionName="fn", Payload=b'{"fail": true}')

    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}, "kind": "RequestResponse"}
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {"errorType": "ValueError", "errorMessage": "bad input"}


def test_uninstall_restores_moto(aws):
    moto_patches.install(lambda *args: b"")
    moto_patches.uninstall()

    assert LambdaFunction.invoke is moto_patches._original_lambda_invoke
    assert Rule.send_to_targets is moto_patches._original_send_to_targets
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    assert ExecutionState._evaluate_with_timeout is moto_patches._original_evaluate_with_timeout
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    assert WaitFunction._wait_interval is moto_patches._original_wait_interval


def test_a_time_scale_shortens_retry_back_offs_and_one_restores_them():
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    moto_patches.install_time_scale(0.1)
    try:
        started = time.monotonic()
        retrier_decl.time.sleep(1.0)
        assert time.monotonic() - started < 0.5
    finally:
        moto_patches.install_time_scale(1.0)
    assert retrier_decl.time is moto_patches._original_retrier_time


def _lambda_function():
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(FunctionName="fn", Runtime="python3.11", Role=role, Handler="app.h", Code={"ZipFile": b"x"})
    return client


def _rule_with_lambda_target():
    from moto.events.models import events_backends

    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.s3"]}))
    target = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": target}])
    return events_backends["123456789012"]["us-east-1"].event_buses["default"].rules["r"]


def _moto_s3_event():
    """An S3 event as moto builds it (see moto.s3.notifications._send_event_bridge_message)."""
    import copy

    from moto.events.utils import _BASE_EVENT_MESSAGE

    event = copy.deepcopy(_BASE_EVENT_MESSAGE)
    event.update({"source": "aws.s3", "detail-type": "Object Created", "time": 1795000000.5})
    event["detail"] = {"object": {"key": "k", "eTag": "abc"}}
    return event


def test_with_the_patch_pipeline_executions_go_to_the_runner_once_per_token(aws):
    started = []
    moto_patches.install(lambda *args: b"")
    moto_patches.install_pipeline_runner(
        lambda pipeline, execution: started.append(execution.arn),
        lambda execution: [{"StepName": "Split", "StepStatus": "Executing"}],
    )
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_pipeline(PipelineName="p", PipelineDefinition='{"Steps": []}', RoleArn="arn:aws:iam::123456789012:role/r")

    first = sagemaker.start_pipeline_execution(PipelineName="p", ClientRequestToken="t" * 32)["PipelineExecutionArn"]
    again = sagemaker.start_pipeline_execution(PipelineName="p", ClientRequestToken="t" * 32)["PipelineExecutionArn"]
    other = sagemaker.start_pipeline_execution(PipelineName="p", ClientRequestToken="u" * 32)["PipelineExecutionArn"]

    assert first == again != other
    assert started == [first, other]
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=first)["PipelineExecutionSteps"]
    assert steps == [{"StepName": "Split", "StepStatus": "Executing"}]
    assert sagemaker.describe_pipeline_execution(PipelineExecutionArn=first)["FailureReason"] == ""

