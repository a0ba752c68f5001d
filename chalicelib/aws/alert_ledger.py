"""Which alerts went out, so a retry does not repeat a channel and repeats collapse.

One item per collapse key (the same failure of the same run): the SQS message
ids seen, the channels delivered, and when the collapse window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_item, to_item
from chalicelib.aws.errors import translated

EXPIRY_AFTER_WINDOW_SECONDS = 86400  # the table's TTL attribute: a day after the window ends


@dataclass(frozen=True)
class AlertRecord:
    message_ids: frozenset[str]
    delivered: frozenset[str]
    window_ends: int


class AlertLedger:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def record(self, collapse_key: str, message_id: str, now: int, window_seconds: int) -> AlertRecord:
        """Note this message under its key (starting a new window when the last one ended)."""
        with translated(f"cannot read alert ledger {self._table}"):
            item = self._client.get_item(TableName=self._table, Key=_key(collapse_key), ConsistentRead=True).get("Item")
        current = _record(item) if item else None
        if current is None or current.window_ends <= now:
            window_ends = now + window_seconds
            with translated(f"cannot write alert ledger {self._table}"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item({
                        "collapse_key": collapse_key, "window_ends": window_ends,
                        "expires_at": window_ends + EXPIRY_AFTER_WINDOW_SECONDS,
                    }),
                )
        return _record(self._add(collapse_key, "message_ids", message_id))

    def mark_delivered(self, collapse_key: str, channel: str) -> None:
        self._add(collapse_key, "delivered", channel)

    def _add(self, collapse_key: str, attribute: str, value: str) -> dict[str, Any]:
        with translated(f"cannot update alert ledger {self._table}"):
            return self._client.update_item(
                TableName=self._table, Key=_key(collapse_key), UpdateExpression=f"ADD {attribute} :value",
                ExpressionAttributeValues={":value": {"SS": [value]}}, ReturnValues="ALL_NEW",
            )["Attributes"]


def _key(collapse_key: str) -> dict[str, Any]:
    return {"collapse_key": {"S": collapse_key}}


def _record(item: dict[str, Any]) -> AlertRecord:
    values = from_item(item)
    return AlertRecord(
        message_ids=frozenset(values.get("message_ids", set())),
        delivered=frozenset(values.get("delivered", set())),
        window_ends=int(values.get("window_ends", 0)),
    )
