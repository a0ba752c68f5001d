"""DynamoDB's tables, a file each, and SQS's queues' messages, a file each: written whole after each write to them."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends

from mlrelay.local.durable.store import StateStore
from mlrelay.local.state_file import ACCOUNT_ID, REGION


def _file_name(name: str) -> str:
    return f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.pickle"


class DynamoDbState:
    def __init__(self, store: StateStore):
        self._store = store
        self._lock = threading.Lock()

    def save(self, table_names: list[str] | None = None) -> None:
        tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
        with self._lock:
            for name in table_names if table_names is not None else list(tables):
                path = self._store.path("dynamodb", _file_name(name))
                table = tables.get(name)
                if table is None:
                    path.unlink(missing_ok=True)
                else:
                    self._store.save(path, table)

    def restore(self) -> int:
        """A table the template made gets its items back (its settings are the template's); others come back whole."""
        tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
        items = 0
        for path in sorted(self._store.path("dynamodb").glob("*.pickle")):
            saved = self._store.load(path)
            if saved.name in tables:
                tables[saved.name].items = saved.items
            else:
                tables[saved.name] = saved
            items += len(saved)
        return items


class SqsState:
    """Messages come back visible: a receive the stack answered before it stopped is delivered again, as SQS
    delivers a message whose visibility timeout ended (at least once)."""

    def __init__(self, store: StateStore):
        self._store = store
        self._lock = threading.Lock()

    def save(self, queue_names: list[str] | None = None) -> None:
        queues = sqs_backends[ACCOUNT_ID][REGION].queues
        with self._lock:
            for name in queue_names if queue_names is not None else list(queues):
                path = self._store.path("sqs", _file_name(name))
                queue = queues.get(name)
                if queue is None:
                    path.unlink(missing_ok=True)
                    continue
                with queue._messages_lock:
                    messages = list(queue._messages)
                self._store.save(path, (name, messages))

    def restore(self) -> int:
        queues = sqs_backends[ACCOUNT_ID][REGION].queues
        restored = 0
        for path in sorted(self._store.path("sqs").glob("*.pickle")):
            name, messages = self._store.load(path)
            queue: Any = queues.get(name)
            if queue is None:
                continue  # a queue the template no longer has
            for message in messages:
                message.visible_at = 0.0
                message.receipt_handle = None
            with queue._messages_lock:
                queue._messages[:] = messages
            restored += len(messages)
        return restored
