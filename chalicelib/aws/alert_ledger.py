"""Which alerts went out, so a retry does not repeat a channel and repeats collapse.

One item per collapse key (the same failure of the same run): the SQS message
ids seen, the channels delivered, and when the collapse window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


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
        current = self._get(collapse_key)
        if current is None or current.window_ends <= now:
            self._put_new(collapse_key, now + window_seconds)
        item = self._update(
            collapse_key, "ADD message_ids :ids", {":ids": {"SS": [message_id]}}
        )
        return _record(item)

    def mark_delivered(self, collapse_key: str, channel: str) -> None:
        self._update(collapse_key, "ADD delivered :channel", {":channel": {"SS": [channel]}})

    def _get(self, collapse_key: str) -> AlertRecord | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=_key(collapse_key), ConsistentRead=True).get("Item")
        except ClientError as err:
            raise AwsError(f"cannot read alert ledger {self._table}: {error_code(err)}") from err
        return _record(item) if item else None

    def _put_new(self, collapse_key: str, window_ends: int) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**_key(collapse_key), "window_ends": {"N": str(window_ends)}, "expires_at": {"N": str(window_ends + 86400)}},
            )
        except ClientError as err:
            raise AwsError(f"cannot write alert ledger {self._table}: {error_code(err)}") from err

    def _update(self, collapse_key: str, expression: str, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._client.update_item(
                TableName=self._table, Key=_key(collapse_key), UpdateExpression=expression,
                ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as err:
            raise AwsError(f"cannot update alert ledger {self._table}: {error_code(err)}") from err


def _key(collapse_key: str) -> dict[str, Any]:
    return {"collapse_key": {"S": collapse_key}}


def _record(item: dict[str, Any]) -> AlertRecord:
    return AlertRecord(
        message_ids=frozenset(item.get("message_ids", {}).get("SS", [])),
        delivered=frozenset(item.get("delivered", {}).get("SS", [])),
        window_ends=int(item.get("window_ends", {}).get("N", "0")),
    )
