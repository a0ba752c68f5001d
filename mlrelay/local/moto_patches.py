"""Every change mlrelay makes to moto's behaviour, in one place.

moto 5.2.5 (pinned in requirements-dev.txt) lacks three things the local
stack needs; each patch below makes moto act as AWS does, nothing more:

1. Lambda ``Invoke`` runs code only in Docker. We route invocations of the
   functions we registered to the Chalice app's handlers, in process.
2. EventBridge rules cannot target Lambda (``Rule.send_to_targets`` raises
   NotImplementedError). We deliver to Lambda targets as an asynchronous
   invocation, as EventBridge does.
3. S3's EventBridge events carry ``time`` as a Unix float and the object's
   ``eTag`` in camel case; AWS sends an ISO-8601 string and ``etag``.
4. SageMaker pipeline executions run no steps and report Succeeded at once;
   StartPipelineExecution ignores ClientRequestToken; DescribePipelineExecution
   never reports a FailureReason; ListPipelineExecutionSteps is missing. We
   hand each new execution to the local runner (mlrelay/local/sagemaker_runner.py),
   honour the token, and answer the two reads from what the runner recorded.
   RetryPipelineExecution is missing too: we hand the failed execution back to
   the runner, which reruns its failed step and those after it (once per token).
5. Step Functions' SendTaskFailure drops the `cause` (the response handler
   passes only `error`), so a failed pipeline's reason would be lost. We pass it.
6. The Redshift Data API executes no SQL and lacks BatchExecuteStatement. We
   answer all of it from the local warehouse (mlrelay/local/warehouse.py).
7. A schedule rule has no event pattern, which moto treats as "match every
   event": every S3 or SageMaker event would fire the schedules. A schedule
   rule gets only its own ticks (EmbeddedStack.fire_schedule), as on AWS.
8. Step Functions names the Data API "redshiftdata" in aws-sdk integrations;
   moto hands that name to boto3, which calls it "redshift-data". We map it.
9. Not a gap in moto but a test hook: a Task state's attempt can be made to
   fail with a chosen error before it calls its service (mlrelay/local/faults.py),
   the way Step Functions Local's mocked "Throw" responses do. Several of moto's
   task classes turn any exception into their own generic error, which would
   lose the injected one, so an error that already is a Step Functions failure
   event keeps it.
10. Also for tests only: the stack can run Wait states and Retry back-offs on a
    faster clock (`EmbeddedStack(time_scale=0.1)`), so that a suite of hundreds
    of runs does not spend minutes sleeping. The order and number of attempts
    and polls do not change; the demo runs at real speed.

tests/unit/test_moto_patches.py pins the moto internals these rely on, so a
moto upgrade that moves them fails loudly there, not somewhere obscure.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.responses import ActionResult, EmptyResult
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.sagemaker.exceptions import ConflictException
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_execution_from_arn, get_pipeline_from_name
from moto.redshiftdata.exceptions import ResourceNotFoundException, ValidationException
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.mock_eval_utils import eval_mocked_response
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.mocking.mock_config import MockedResponseThrow
from moto.stepfunctions.responses import StepFunctionResponse
from moto.utilities.arns import parse_arn

logger = logging.getLogger(__name__)

# Invocation type header values used by the Lambda Invoke API.
ASYNC_INVOCATION = "Event"

# (function name, event, invocation type) -> response payload bytes
InvokeRouter = Callable[[str, Any, str], bytes | None]

_router: InvokeRouter | None = None
_installed = False
_targets_lock = threading.Lock()

# (moto's pipeline, moto's execution) -> None: run the execution
PipelineStarter = Callable[[Any, Any], None]
# (moto's pipeline, moto's execution) -> None: rerun a failed execution from its failed step
PipelineRetrier = Callable[[Any, Any], None]
# (moto's execution) -> the ListPipelineExecutionSteps entries
StepLister = Callable[[Any], list[dict[str, Any]]]

_pipeline_starter: PipelineStarter | None = None
_pipeline_retrier: PipelineRetrier | None = None
_step_lister: StepLister | None = None

_original_lambda_invoke = LambdaFunction.invoke
_original_send_to_targets = Rule.send_to_targets
_original_start_pipeline_execution = SageMakerModelBackend.start_pipeline_execution
_original_describe_pipeline_execution = SageMakerModelBackend.describe_pipeline_execution
_original_send_task_failure = StepFunctionResponse.send_task_failure
_DATA_API_ACTIONS = (
    "execute_statement", "batch_execute_statement", "describe_statement", "get_statement_result", "cancel_statement",
)
_original_data_api = {name: getattr(RedshiftDataAPIServiceResponse, name, None) for name in _DATA_API_ACTIONS}
_warehouse: Any = None
_original_evaluate_with_timeout = ExecutionState._evaluate_with_timeout


def _classes_with_own_from_error() -> list[type]:
    assert state_task_service_factory  # imported so that every service task class exists
    found, pending = [ExecutionState], list(ExecutionState.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_from_error" in cls.__dict__:
            found.append(cls)
    return found


_original_from_error = {cls: cls.__dict__["_from_error"] for cls in _classes_with_own_from_error()}
_fault_plan: Any = None
_original_wait_interval = WaitFunction._wait_interval
_original_retrier_time = retrier_decl.time


def install(router: InvokeRouter) -> None:
    """Route Lambda invocations to ``router`` (idempotent; last router wins)."""
    global _router, _installed
    _router = router
    if _installed:
        return
    LambdaFunction.invoke = _routed_lambda_invoke  # type: ignore[method-assign]
    Rule.send_to_targets = _send_to_targets_with_lambda  # type: ignore[method-assign]
    StepFunctionResponse.send_task_failure = _send_task_failure_with_cause  # type: ignore[method-assign]
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES["redshiftdata"] = "redshift-data"  # type: ignore[index]
    _installed = True


def install_pipeline_runner(starter: PipelineStarter, step_lister: StepLister, retrier: PipelineRetrier | None = None) -> None:
    """Run SageMaker pipeline executions with `starter`; list their steps with `step_lister`."""
    global _pipeline_starter, _step_lister, _pipeline_retrier
    _pipeline_starter, _step_lister = starter, step_lister
    _pipeline_retrier = retrier or _pipeline_retrier
    SageMakerResponse.retry_pipeline_execution = _retry_pipeline_execution  # type: ignore[attr-defined]
    SageMakerModelBackend.start_pipeline_execution = _start_pipeline_execution  # type: ignore[method-assign]
    SageMakerModelBackend.describe_pipeline_execution = _describe_pipeline_execution  # type: ignore[method-assign]
    SageMakerResponse.list_pipeline_execution_steps = _list_pipeline_execution_steps  # type: ignore[attr-defined]


def install_warehouse(warehouse: Any) -> None:
    """Answer the Redshift Data API from `warehouse` (see mlrelay/local/warehouse.py)."""
    global _warehouse
    _warehouse = warehouse
    for name in _DATA_API_ACTIONS:
        setattr(RedshiftDataAPIServiceResponse, name, _data_api_action(name))


def install_fault_plan(plan: Any) -> None:
    """Let `plan` (a mlrelay.local.faults.FaultPlan) fail Task state attempts."""
    global _fault_plan
    _fault_plan = plan
    ExecutionState._evaluate_with_timeout = _evaluate_with_faults  # type: ignore[method-assign]
    for cls, original in _original_from_error.items():
        setattr(cls, "_from_error", _keeping_failure_events(original))


def install_time_scale(scale: float) -> None:
    """Wait states and Retry back-offs take `scale` times as long (1.0 restores real time)."""
    if scale == 1.0:
        WaitFunction._wait_interval = _original_wait_interval  # type: ignore[method-assign]
        retrier_decl.time = _original_retrier_time  # type: ignore[attr-defined]
        return

    def scaled_wait(self: WaitFunction, env: Environment, wait_seconds: int) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)  # still ends early when the execution stops

    WaitFunction._wait_interval = scaled_wait  # type: ignore[method-assign]
    retrier_decl.time = _ScaledTime(scale)  # type: ignore[attr-defined]


class _ScaledTime:
    """The `time` module as retrier_decl uses it (sleep), on a faster clock."""

    def __init__(self, scale: float):
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        _original_retrier_time.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(_original_retrier_time, name)


def installed_router() -> InvokeRouter | None:
    return _router


def uninstall() -> None:
    global _router, _installed, _pipeline_starter, _step_lister, _fault_plan, _pipeline_retrier
    ExecutionState._evaluate_with_timeout = _original_evaluate_with_timeout  # type: ignore[method-assign]
    for cls, original in _original_from_error.items():
        setattr(cls, "_from_error", original)
    install_time_scale(1.0)
    LambdaFunction.invoke = _original_lambda_invoke  # type: ignore[method-assign]
    Rule.send_to_targets = _original_send_to_targets  # type: ignore[method-assign]
    SageMakerModelBackend.start_pipeline_execution = _original_start_pipeline_execution  # type: ignore[method-assign]
    SageMakerModelBackend.describe_pipeline_execution = _original_describe_pipeline_execution  # type: ignore[method-assign]
    StepFunctionResponse.send_task_failure = _original_send_task_failure  # type: ignore[method-assign]
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.pop("redshiftdata", None)  # type: ignore[attr-defined]
    for name, original in _original_data_api.items():
        if original is None:
            if name in RedshiftDataAPIServiceResponse.__dict__:
                delattr(RedshiftDataAPIServiceResponse, name)
        else:
            setattr(RedshiftDataAPIServiceResponse, name, original)
    for added in ("list_pipeline_execution_steps", "retry_pipeline_execution"):
        if hasattr(SageMakerResponse, added):
            delattr(SageMakerResponse, added)
    _router = _pipeline_starter = _step_lister = _fault_plan = _pipeline_retrier = None
    _installed = False


def _header(headers: Any, name: str, default: str) -> str:
    # moto hands us werkzeug headers (case-insensitive) or a plain dict.
    for candidate in (name, name.lower()):
        value = headers.get(candidate) if headers else None
        if value:
            return str(value)
    return default


def _routed_lambda_invoke(
    self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
) -> bytes | str:
    if _router is None:
        return _original_lambda_invoke(self, body, request_headers, response_headers)
    event = json.loads(body) if body else {}
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type", "RequestResponse")
    try:
        payload = _router(self.function_name, event, invocation_type)
    except Exception as err:  # noqa: BLE001 - reported as Lambda reports it
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(err).__name__, "errorMessage": str(err)}).encode()
    return payload if payload is not None else b""


def _send_to_targets_with_lambda(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    if self.scheduled_expression and self.arn not in original_event.get("resources", []):
        return  # not this schedule's own tick
    lambda_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
    if lambda_targets and _router is not None and self.event_pattern.matches_event(original_event):
        event = _as_aws_sends_it(original_event)
        for target in lambda_targets:
            function_name = parse_arn(target["Arn"]).resource_id.split(":")[0]
            try:
                _router(function_name, _transformed(event, target), ASYNC_INVOCATION)
            except Exception:  # moto swallows errors here; say what was lost
                logger.exception("EventBridge could not deliver to %s", function_name)
    if len(lambda_targets) == len(self.targets):
        return
    with _targets_lock:
        all_targets = self.targets
        self.targets = [t for t in all_targets if t not in lambda_targets]
        try:
            _original_send_to_targets(self, original_event, transform_input)
        finally:
            self.targets = all_targets


def _transformed(event: dict[str, Any], target: dict[str, Any]) -> Any:
    """Apply the target's InputTransformer, as EventBridge does before invoking."""
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    rendered = EventTemplateParser.parse(
        input_template=transformer["InputTemplate"], input_paths_map=transformer.get("InputPathsMap", {}), event=event
    )
    return json.loads(rendered) if isinstance(rendered, str) else rendered


def _as_aws_sends_it(event: dict[str, Any]) -> dict[str, Any]:
    event = dict(event)
    if isinstance(event.get("time"), (int, float)):
        moment = datetime.fromtimestamp(event["time"], tz=timezone.utc)
        event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    s3_object = event.get("detail", {}).get("object") if event.get("source") == "aws.s3" else None
    if isinstance(s3_object, dict) and "eTag" in s3_object:
        event["detail"] = {**event["detail"], "object": {**s3_object}}
        event["detail"]["object"]["etag"] = event["detail"]["object"].pop("eTag")
    return event


_pipeline_lock = threading.Lock()


def _start_pipeline_execution(
    self: SageMakerModelBackend,
    pipeline_name: str,
    pipeline_execution_display_name: str,
    pipeline_parameters: list[dict[str, Any]],
    pipeline_execution_description: str,
    parallelism_configuration: dict[str, int],
    client_request_token: str,
) -> dict[str, str]:
    with _pipeline_lock:  # the token check and the start must not interleave
        pipeline = get_pipeline_from_name(self.pipelines, pipeline_name)
        if client_request_token:
            for execution in pipeline.pipeline_executions.values():
                if execution.client_request_token == client_request_token:
                    return {"PipelineExecutionArn": execution.arn}
        response = _original_start_pipeline_execution(
            self, pipeline_name, pipeline_execution_display_name, pipeline_parameters,
            pipeline_execution_description, parallelism_configuration, client_request_token,
        )
    execution = pipeline.pipeline_executions[response["PipelineExecutionArn"]]
    if _pipeline_starter is not None:
        _pipeline_starter(pipeline, execution)
    return response


def _describe_pipeline_execution(self: SageMakerModelBackend, pipeline_execution_arn: str) -> dict[str, Any]:
    response = _original_describe_pipeline_execution(self, pipeline_execution_arn)
    execution = get_pipeline_execution_from_arn(self.pipelines, pipeline_execution_arn)
    response["FailureReason"] = execution.pipeline_execution_failure_reason or ""
    return response


def _list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
    execution = get_pipeline_execution_from_arn(
        self.sagemaker_backend.pipelines, self._get_param("PipelineExecutionArn")
    )
    steps = _step_lister(execution) if _step_lister is not None else []
    return ActionResult({"PipelineExecutionSteps": steps})


def _retry_pipeline_execution(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("PipelineExecutionArn")
    token = self._get_param("ClientRequestToken") or ""
    with _pipeline_lock:
        execution = get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, arn)
        tokens = execution.__dict__.setdefault("mlrelay_retry_tokens", set())
        if token and token in tokens:
            return ActionResult({"PipelineExecutionArn": arn})
        if execution.pipeline_execution_status not in ("Failed", "Stopped"):
            raise ConflictException(f"Pipeline execution {arn} is {execution.pipeline_execution_status}: only a failed or stopped execution can be retried")
        if _pipeline_retrier is None:
            raise ConflictException("no local pipeline runner to retry with")
        pipeline = get_pipeline_from_name(self.sagemaker_backend.pipelines, arn.split(":pipeline/")[1].split("/")[0])
        tokens.add(token)
        _pipeline_retrier(pipeline, execution)
    return ActionResult({"PipelineExecutionArn": arn})


def _send_task_failure_with_cause(self: StepFunctionResponse) -> Any:
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _data_api_action(name: str) -> Callable[[RedshiftDataAPIServiceResponse], Any]:
    def action(self: RedshiftDataAPIServiceResponse) -> Any:
        from mlrelay.local.warehouse import RequestError, StatementNotFoundError

        request = json.loads(self.body or "{}")
        try:
            if name in ("execute_statement", "batch_execute_statement"):
                answer = getattr(_warehouse, name)(request)
            elif name == "cancel_statement":
                answer = {"Status": _warehouse.cancel_statement(request["Id"])}
            else:
                answer = getattr(_warehouse, name)(request["Id"])
        except StatementNotFoundError as err:
            raise ResourceNotFoundException() from err
        except RequestError as err:
            raise ValidationException(str(err)) from err
        return 200, {}, json.dumps(answer, default=str)

    return action


def _evaluate_with_faults(self: ExecutionState, env: Environment) -> None:
    if _fault_plan is not None and isinstance(self, StateTask):
        context = env.states.context_object.context_object_data
        fault = _fault_plan.take(context["Execution"]["Name"], context["State"]["Name"])
        if fault is not None:  # raises a TaskFailed with the fault's error, as a mocked Throw does
            eval_mocked_response(env, MockedResponseThrow(0, 0, fault.error, fault.cause))
    _original_evaluate_with_timeout(self, env)


def _keeping_failure_events(original: Callable[..., Any]) -> Callable[..., Any]:
    def from_error(self: ExecutionState, env: Environment, ex: Exception) -> Any:
        if isinstance(ex, FailureEventException):
            return ex.failure_event
        return original(self, env, ex)

    return from_error
