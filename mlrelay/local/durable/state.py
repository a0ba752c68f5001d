"""One folder holding what an embedded stack's services hold: each service's part is saved after every write to it,
before the write is acknowledged, and put back when a stack starts on the same folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrelay.local.durable.store import StateStore
from mlrelay.local.durable.writes import DurableWrites, Write
from mlrelay.local.emulated.server import LocalServer
from mlrelay.local.emulated.state.iam import IamState
from mlrelay.local.emulated.state.journals import LogsJournal, PendingInvocations
from mlrelay.local.emulated.state.s3 import S3State
from mlrelay.local.emulated.state.sagemaker import SageMakerState
from mlrelay.local.emulated.state.stepfunctions import RecordedExecution, StepFunctionsState
from mlrelay.local.emulated.state.tables import DynamoDbState, SqsState

# services whose writes are handled one at a time (see DurableWrites)
SERIALIZED = ("s3", "dynamodb", "sqs", "logs", "iam")


@dataclass(frozen=True)
class Restored:
    objects: int
    items: int
    messages: int
    executions: int
    pipeline_executions: int
    log_events: int
    running: list[RecordedExecution]

    def summary(self) -> str:
        return (f"{self.objects:,} S3 object names, {self.items:,} table items, {self.messages:,} queued messages, "
                f"{self.executions:,} workflow executions ({len(self.running)} were running), "
                f"{self.pipeline_executions:,} pipeline executions, {self.log_events:,} log events")


class DurableState:
    def __init__(self, root: Path, stage: str):
        self.root = root
        self.stage = stage
        self.store = StateStore(root)
        self.s3 = S3State(self.store)
        self.dynamodb = DynamoDbState(self.store)
        self.sagemaker = SageMakerState(self.store)
        self.stepfunctions = StepFunctionsState(self.store)
        self.sqs = SqsState(self.store)
        self.iam = IamState(self.store)
        self.logs = LogsJournal(root / "logs.jsonl", self.store.frozen)
        self.pending = PendingInvocations(root / "lambda-pending", self.store.frozen)
        self.warehouse_path = root / "warehouse.duckdb"
        self.held_before = False
        self._writes: DurableWrites | None = None

    def open(self) -> DurableState:
        """Claims the folder, or checks that it is this stage's (StateFolderError otherwise)."""
        self.held_before = self.store.check_or_claim(self.stage)
        return self

    def release(self) -> None:
        self.store.release()

    def restore(self) -> Restored:
        self.iam.restore()  # first: a job that resumes runs as its model's role
        objects = self.s3.restore()
        items = self.dynamodb.restore()
        pipeline_executions = self.sagemaker.restore()
        executions_before = len(list(self.store.path("stepfunctions").glob("*.pickle")))
        running = self.stepfunctions.restore()
        messages = self.sqs.restore()
        log_events = self.logs.replay()
        return Restored(objects, items, messages, executions_before, pipeline_executions, log_events, running)

    def stopping(self) -> None:
        """A clean stop begins: from here on writes are refused and nothing more is saved, so the state on disk is the
        stack's as it was when the stop began; runs that were running are interrupted at the next start, as after a
        kill, not failed by the jobs the stop ends."""
        if self._writes is not None:  # first: no write is taken that the frozen store would not keep
            self._writes.stopping.set()
        self.store.frozen.set()

    def save_all(self) -> None:
        self.s3.save_all()
        self.dynamodb.save()
        self.sagemaker.save()
        self.stepfunctions.save()
        self.sqs.save()
        self.iam.save()

    @contextmanager
    def kept(self, server: LocalServer) -> Iterator[None]:
        """From here on each write to the server is saved before it is answered, and running executions as they go."""

        def durable(app: Any) -> DurableWrites:
            self._writes = DurableWrites(app, self._keepers(), SERIALIZED)
            return self._writes

        with ExitStack() as undo:
            undo.enter_context(server.wrapped(durable))
            undo.enter_context(self.stepfunctions.saved_while_running())
            yield

    def _keepers(self) -> dict[str, Any]:
        return {
            "s3": lambda write: self.s3.save(_bucket_of(write)),
            "dynamodb": lambda write: self.dynamodb.save(_tables_of(write)),
            "states": lambda write: self.stepfunctions.save(),
            "sagemaker": lambda write: self.sagemaker.save(),
            "sqs": lambda write: self.sqs.save(_queues_of(write)),
            "logs": lambda write: self.logs.record(write.action, write.body),
            "iam": lambda write: self.iam.save(),
        }


def _bucket_of(write: Write) -> str:
    return write.path.lstrip("/").split("/", 1)[0]


def _tables_of(write: Write) -> list[str] | None:
    body = write.body
    names = set(body.get("RequestItems") or {})
    if isinstance(body.get("TableName"), str):
        names.add(body["TableName"])
    for item in body.get("TransactItems") or []:
        for operation in item.values():
            if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                names.add(operation["TableName"])
    return sorted(names) or None  # none named (an unknown shape): every table


def _queues_of(write: Write) -> list[str] | None:
    url = write.body.get("QueueUrl")
    if isinstance(url, str) and url:
        return [url.rstrip("/").rsplit("/", 1)[-1]]
    name = write.body.get("QueueName")
    return [name] if isinstance(name, str) and name else None
