"""Step Functions' executions and their histories, a file each: what `runs list` and `runs show` read.

An execution is saved after each Step Functions write, each time it enters or leaves a state (which is no API write
of anyone's) and when it ends: a kill at any moment leaves the state it stood in, and that state's input. After a
restart an execution is a record: it answers Describe, List and GetExecutionHistory as before and runs no more; one
that was running is interrupted (mlrelay/local/durable/interrupted.py).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import ExitStack
from datetime import datetime
from typing import Any
from unittest import mock

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from mlrelay.local.durable.store import StateStore
from mlrelay.local.state_file import ACCOUNT_ID, REGION

_MOVES = ("StateEntered", "StateExited")  # the history events that say where a run stands
_FIELDS = ("name", "sm_type", "role_arn", "exec_arn", "execution_arn", "account_id", "region_name", "start_date", "input_data",
           "input_details", "trace_header", "exec_status", "stop_date", "output", "output_details", "error", "cause",
           "execution_input", "state_machine_arn")


def _backend() -> Any:
    return stepfunctions_parser_backends[ACCOUNT_ID][REGION]


class RecordedExecution(Execution):
    """An execution as the stack kept it."""

    def __init__(self, fields: dict[str, Any], events: list[dict[str, Any]], state_machine: Any):
        vars(self).update(fields)
        self.state_machine = state_machine
        self.exec_worker: Any = _NO_WORKER  # moto asks every execution's worker about a task token
        self._cloud_watch_logging_session = None
        self._activity_store = {}
        self.events = events

    def to_history_output(self) -> Any:
        return {"events": list(self.events)}

    def start(self) -> None:
        raise RuntimeError(f"{self.exec_arn} was restored from the stack's state; it does not run again")

    def stop(self, stop_date: datetime, error: str | None, cause: str | None) -> None:
        self.interrupt(stop_date, error or "", cause or "")

    def interrupt(self, stop_date: datetime, error: str, cause: str) -> None:
        """Ended as aborted, as Step Functions ends an execution that StopExecution stopped, with a reason."""
        self.exec_status, self.stop_date, self.error, self.cause = ExecutionStatus.ABORTED, stop_date, error, cause
        last = self.events[-1]["id"] if self.events else 0
        self.events.append({"timestamp": stop_date, "type": "ExecutionAborted", "id": last + 1, "previousEventId": last,
                            "executionAbortedEventDetails": {"error": error, "cause": cause}})


class _NoCallbacks:
    """A recorded execution waits for no task token and runs no map."""

    def heartbeat(self, *args: Any, **kwargs: Any) -> bool:
        return False

    def notify(self, *args: Any, **kwargs: Any) -> bool:
        return False

    def get(self, *args: Any, **kwargs: Any) -> None:
        return None

    def get_all(self) -> list[Any]:
        return []


class _NoWorker:
    class env:  # the attribute path moto reads: exec_worker.env.callback_pool_manager
        callback_pool_manager = _NoCallbacks()
        map_run_record_pool_manager = _NoCallbacks()
        event_manager = None


_NO_WORKER = _NoWorker()


class StepFunctionsState:
    def __init__(self, store: StateStore):
        self._store = store
        self._saved: dict[str, tuple[Any, ...]] = {}  # execution ARN -> what it was when last written
        self._lock = threading.Lock()

    def save(self) -> None:
        with self._lock:
            for machine in list(_backend().state_machines):
                for execution in list(machine.executions):
                    self._save_one(machine.arn, execution)

    def save_the_one_recording_to(self, manager: Any) -> None:
        """The execution whose history `manager` keeps (only it moved: the others' histories are not copied)."""
        with self._lock:
            for machine in list(_backend().state_machines):
                for execution in list(machine.executions):
                    environment = getattr(getattr(execution, "exec_worker", None), "env", None)
                    if getattr(environment, "event_manager", None) is manager:
                        self._save_one(machine.arn, execution)
                        return

    def _save_one(self, machine_arn: str, execution: Any) -> None:
        if execution.exec_status is None:
            return  # not started yet
        saved = self._saved.get(execution.exec_arn)
        if saved is not None and saved[0] == str(execution.status) != ExecutionStatus.RUNNING.value and saved[2:4] == (
                execution.error, execution.cause) and saved[4] == (execution.output is None):
            return  # ended, and saved so
        for _ in range(5):
            try:
                events = list(execution.to_history_output()["events"])
                break
            except (RuntimeError, AttributeError):  # the worker appends while it is read, or has not set up yet
                continue
        else:
            return  # the next save gets it
        # error, cause and output too: moto sets the status first, and a save between would keep an end without them
        fingerprint = (str(execution.status), len(events), execution.error, execution.cause, execution.output is None)
        if self._saved.get(execution.exec_arn) == fingerprint:
            return
        fields = {name: getattr(execution, name, None) for name in _FIELDS}
        self._store.save(self._path(execution.exec_arn), (machine_arn, fields, events))
        self._saved[execution.exec_arn] = fingerprint

    def _path(self, execution_arn: str) -> Any:
        return self._store.path("stepfunctions", f"{hashlib.sha256(execution_arn.encode()).hexdigest()[:32]}.pickle")

    def restore(self) -> list[RecordedExecution]:
        """Every kept execution, attached to the template's state machine of the same ARN; returns those that ran."""
        machines = {machine.arn: machine for machine in _backend().state_machines}
        running = []
        records = [self._store.load(path) for path in self._store.path("stepfunctions").glob("*.pickle")]
        for machine_arn, fields, events in sorted(records, key=lambda record: record[1]["start_date"]):
            machine = machines.get(machine_arn)
            if machine is None:
                continue  # a state machine the template no longer has
            execution = RecordedExecution(fields, events, machine)
            machine.executions.append(execution)
            self._saved[execution.exec_arn] = (str(execution.status), len(events), execution.error, execution.cause,
                                               execution.output is None)
            if execution.exec_status == ExecutionStatus.RUNNING:
                running.append(execution)
        return running

    def saved_while_running(self) -> ExitStack:
        """Saves an execution each time it enters or leaves a state, and when it ends, until closed."""
        undo = ExitStack()
        original_terminated = BaseExecutionWorkerCommunication.terminated
        original_add_event = EventManager.add_event

        def terminated(communication: Any) -> None:
            original_terminated(communication)
            self.save()

        def add_event(manager: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
            event_id = original_add_event(manager, context, event_type, *args, **kwargs)
            if str(getattr(event_type, "value", event_type)).endswith(_MOVES):  # after: add_event holds the history's lock
                self.save_the_one_recording_to(manager)
            return int(event_id)

        undo.enter_context(mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated))
        undo.enter_context(mock.patch.object(EventManager, "add_event", add_event))
        return undo
