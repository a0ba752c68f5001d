"""DynamoDB: each item write is atomic, as DynamoDB makes it.

moto's server answers requests on many threads, and its PutItem, UpdateItem and
DeleteItem check their ConditionExpression and then write with nothing holding
the item between the two, so two writes to one item can interleave and both pass
their conditions. The workflows rely on DynamoDB's guarantee: a waiting
workflow's task token and its pipeline's outcome are two conditional writes to
one item, and exactly one of them must see the other (chalicelib/aws/callbacks.py).
Here every write runs alone. A test hook (the fault plan's hold_writes) holds
conditional writes, before the lock, until several have come: a race made to happen.

Reads answer in DynamoDB's own JSON: moto walks each item of an answer through its
generic serializer, against botocore's shapes, attribute by attribute (about 13 ms
an item of a model version's size, so 1.3 s for a Query of 100 versions where
DynamoDB takes milliseconds); the items are already the wire format, so they are
written out as JSON (an answer with binary values keeps moto's way).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
READS = ("get_item", "batch_get_item", "query", "scan")
_lock = threading.RLock()  # re-entrant: a transaction's writes go through the same methods


@contextmanager
def patched(fault_plan: Any = None) -> Iterator[None]:
    """`fault_plan` (mlrelay/local/faults.py) may hold conditional writes until a race partner comes: a test hook."""
    with ExitStack() as undo:
        for name in WRITES:
            undo.enter_context(mock.patch.object(DynamoDBBackend, name, _alone(getattr(DynamoDBBackend, name), fault_plan)))
        for name in READS:
            undo.enter_context(mock.patch.object(DynamoHandler, name, _as_json(getattr(DynamoHandler, name))))
        yield


def _alone(write: Callable[..., Any], fault_plan: Any) -> Callable[..., Any]:
    @functools.wraps(write)
    def serialized(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        condition, table = kwargs.get("condition_expression"), kwargs.get("table_name", args[0] if args else "")
        hold = fault_plan.write_hold(table, condition) if fault_plan is not None and condition else None
        if hold is not None and hold.barrier is not None:
            try:
                hold.barrier.wait()  # outside the lock: the partner must reach here too
            except threading.BrokenBarrierError:
                pass  # the partner never came: go on alone
        with _lock:
            return write(self, *args, **kwargs)

    return serialized


def _as_json(read: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(read)
    def answered(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        answer = read(self, *args, **kwargs)
        if not isinstance(answer, ActionResult):
            return answer
        try:
            return json.dumps(answer.result)
        except TypeError:  # bytes: a binary attribute, which the serializer encodes
            return answer

    return answered
