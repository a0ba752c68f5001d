"""Step Functions: SendTaskFailure keeps its cause, `redshiftdata` maps to boto3's name, startExecution as a
service integration speaks boto3's casing, and two test hooks.

moto's `states:startExecution` task passes StartExecution's parameters as the
state names them (StateMachineArn, Name, Input) to boto3, which wants
stateMachineArn, name, input, and hands boto3's answers (executionArn, status,
output) on where Step Functions gives ExecutionArn, Status, Output.

StopExecution ends an execution that waits for a task token at once, ABORTED,
as on AWS (moto's wait would go on to its timeout, and the error of a woken
wait would make it FAILED).

The hooks: a fault plan (mlrelay/local/faults.py) can refuse the answer to a
waiting task, and fail a Task state's attempt with a chosen error before it
calls its service, the way Step Functions
Local's mocked "Throw" responses do; several of moto's task classes turn any
exception into their own generic error, which would lose the injected one, so
an error that already is a Step Functions failure event keeps it. And Wait
states and Retry back-offs can run on a faster clock (`scale` < 1), so that a
suite of hundreds of runs does not spend minutes sleeping: the order and number
of attempts and polls do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.core.exceptions import AWSError
from moto.core.responses import EmptyResult
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.mock_eval_utils import eval_mocked_response
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.mocking.mock_config import MockedResponseThrow
from moto.stepfunctions.responses import StepFunctionResponse


@contextmanager
def patched(fault_plan: Any, time_scale: float = 1.0) -> Iterator[None]:
    """`fault_plan` is a mlrelay.local.faults.FaultPlan; `time_scale` shortens Wait states and Retry back-offs."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(ExecutionWorker, "stop", _stop_ending_the_wait_for_a_task_token(ExecutionWorker.stop)))
        stack.enter_context(mock.patch.object(Environment, "set_error", _no_error_after_a_stop(Environment.set_error)))
        for answer, original in (("send_task_failure", _send_task_failure_with_cause),
                                 ("send_task_success", StepFunctionResponse.send_task_success)):
            stack.enter_context(mock.patch.object(StepFunctionResponse, answer, _answered_once(fault_plan, original)))
        stack.enter_context(mock.patch.dict(StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES, {"redshiftdata": "redshift-data"}))
        stack.enter_context(mock.patch.object(ExecutionState, "_evaluate_with_timeout", _with_faults(fault_plan)))
        stack.enter_context(mock.patch.object(StateTaskServiceSfn, "_normalise_parameters", _sfn_parameters_as_boto3_names()))
        stack.enter_context(mock.patch.object(StateTaskServiceSfn, "_normalise_response", _sfn_response_as_step_functions_names))
        stack.enter_context(mock.patch.object(StateTaskServiceSfn, "_eval_service_task", _sfn_submission_as_step_functions_names()))
        for cls in classes_with_own_from_error():
            stack.enter_context(mock.patch.object(cls, "_from_error", _keeping_failure_events(cls.__dict__["_from_error"])))
        if time_scale != 1.0:
            stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", _scaled_wait(time_scale)))
            stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledTime(retrier_decl.time, time_scale)))
        yield


def classes_with_own_from_error() -> list[type[ExecutionState]]:
    assert state_task_service_factory  # imported so that every service task class exists
    found: list[type[ExecutionState]] = [ExecutionState]  # type: ignore[type-abstract]  # its own _from_error is patched too
    pending = list(ExecutionState.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_from_error" in cls.__dict__:
            found.append(cls)
    return found


def _send_task_failure_with_cause(self: StepFunctionResponse) -> Any:
    # moto's handler passes only `error`: a failed pipeline's reason would be lost.
    backend: Any = self.stepfunction_backend  # the parser's backend, whose send_task_failure takes a cause
    backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _stop_ending_the_wait_for_a_task_token(original: Callable[..., None]) -> Callable[..., None]:
    """StopExecution of an execution waiting for a task token: moto sets it stopped but leaves the wait waiting (to its
    timeout, RUNNING all along); Step Functions aborts it at once. Waking the waits lets the stop take effect."""

    def stop(self: ExecutionWorker, stop_date: Any, error: str | None, cause: str | None) -> None:
        original(self, stop_date, error, cause)
        if self.env is not None:
            for endpoint in list(self.env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()

    return stop


def _no_error_after_a_stop(original: Callable[..., None]) -> Callable[..., None]:
    """A stopped execution stays ABORTED: the error its interrupted wait raises does not make it FAILED."""

    def set_error(self: Environment, error: Any) -> None:
        if not isinstance(self.program_state(), ProgramStopped):
            original(self, error)

    return set_error


def _answered_once(fault_plan: Any, answer: Callable[[StepFunctionResponse], Any]) -> Callable[[StepFunctionResponse], Any]:
    """`answer` to a waiting task, which takes one answer, as on AWS: a token answered already, or of an execution
    that has ended, is refused with TaskTimedOut (moto took a second SendTaskFailure, and a second SendTaskSuccess
    while the execution ran on). The fault plan may refuse the answer too."""

    def answering(self: StepFunctionResponse) -> Any:
        token = self._get_param("taskToken")
        backend: Any = self.stepfunction_backend  # the parser's backend
        owners = [e for e in backend._get_executions()  # a worker gets its env on its own thread, just after it starts
                  if e.exec_worker is not None and e.exec_worker.env is not None
                  and e.exec_worker.env.callback_pool_manager.get(token) is not None]
        if owners:
            endpoint = owners[0].exec_worker.env.callback_pool_manager.get(token)
            if owners[0].exec_status != ExecutionStatus.RUNNING or endpoint.get_outcome() is not None:
                raise AWSError("Task Timed Out: the task was answered already, or its execution has ended", "TaskTimedOut", 400)
            fault = fault_plan.callback_refusal(owners[0].name)
            if fault is not None:
                raise AWSError(fault.cause, fault.error, 400)
        return answer(self)

    return answering


def _sfn_parameters_as_boto3_names() -> Callable[..., None]:
    original = StateTaskServiceSfn._normalise_parameters

    def normalise(self: StateTaskServiceSfn, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, parameters, *args, **kwargs)
        for key in list(parameters):
            parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    return normalise


def _sfn_response_as_step_functions_names(self: StateTaskServiceSfn, response: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(response, dict):
        for key in list(response):
            response[key[:1].upper() + key[1:]] = response.pop(key)


def _sfn_submission_as_step_functions_names() -> Callable[..., None]:
    original = StateTaskServiceSfn._eval_service_task

    def evaluate(self: StateTaskServiceSfn, env: Environment, *args: Any, **kwargs: Any) -> None:
        original(self, env, *args, **kwargs)
        _sfn_response_as_step_functions_names(self, env.stack[-1])

    return evaluate


def _with_faults(fault_plan: Any) -> Callable[[ExecutionState, Environment], None]:
    original = ExecutionState._evaluate_with_timeout

    def evaluate(self: ExecutionState, env: Environment) -> None:
        if isinstance(self, StateTask):
            context: Any = env.states.context_object.context_object_data
            fault = fault_plan.state_fault(context["Execution"]["Name"], context["State"]["Name"])
            if fault is not None:  # raises a TaskFailed with the fault's error, as a mocked Throw does
                eval_mocked_response(env, MockedResponseThrow(0, 0, fault.error, fault.cause))
        original(self, env)

    return evaluate


def _keeping_failure_events(original: Callable[..., Any]) -> Callable[..., Any]:
    def from_error(self: ExecutionState, env: Environment, ex: Exception) -> Any:
        if isinstance(ex, FailureEventException):
            return ex.failure_event
        return original(self, env, ex)

    return from_error


def _scaled_wait(scale: float) -> Callable[[WaitFunction, Environment, int], None]:
    def wait_interval(self: WaitFunction, env: Environment, wait_seconds: int) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)  # still ends early when the execution stops

    return wait_interval


class _ScaledTime:
    """The `time` module as retrier_decl uses it (sleep), on a faster clock."""

    def __init__(self, real: Any, scale: float):
        self._real, self._scale = real, scale

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
