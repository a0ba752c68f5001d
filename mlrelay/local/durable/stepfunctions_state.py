"""Step Functions' executions and their histories, a file each: what `runs list` and `runs show` read.

An execution is saved after each Step Functions write, when it ends, and every half second while it runs (a state
entered or left is no API write of anyone's). After a restart an execution is a record: it answers Describe, List
and GetExecutionHistory as before and runs no more; one that was running is interrupted (mlrelay/local/durable/
interrupted.py).
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import ExitStack
from datetime import datetime
from typing import Any
from unittest import mock

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from mlrelay.local.durable.store import StateStore
from mlrelay.local.state_file import ACCOUNT_ID, REGION

_FIELDS = ("name", "sm_type", "role_arn", "exec_arn", "execution_arn", "account_id", "region_name", "start_date", "input_data",
           "input_details", "trace_header", "exec_status", "stop_date", "output", "output_details", "error", "cause",
           "execution_input", "state_machine_arn")
SAVE_EVERY_SECONDS = 0.5


def _backend() -> Any:
    return stepfunctions_parser_backends[ACCOUNT_ID][REGION]


class RecordedExecution(Execution):
    """An execution as the stack kept it."""

    def __init__(self, fields: dict[str, Any], events: list[dict[str, Any]], state_machine: Any):
        vars(self).update(fields)
        self.state_machine = state_machine
        self.exec_worker = _NO_WORKER  # moto asks every execution's worker about a task token
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
        self._stopped = threading.Event()

    def save(self) -> None:
        with self._lock:
            for machine in list(_backend().state_machines):
                for execution in list(machine.executions):
                    self._save_one(machine.arn, execution)

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
        """Saves each execution when it ends, and the running ones every half second, until closed."""
        undo = ExitStack()
        original = BaseExecutionWorkerCommunication.terminated

        def terminated(communication: Any) -> None:
            original(communication)
            self.save()

        undo.enter_context(mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated))
        self._stopped.clear()
        saver = threading.Thread(target=self._save_periodically, name="stepfunctions-state", daemon=True)
        saver.start()
        undo.callback(saver.join, 5)
        undo.callback(self._stopped.set)
        return undo

    def _save_periodically(self) -> None:
        while not self._stopped.wait(SAVE_EVERY_SECONDS):
            self.save()
