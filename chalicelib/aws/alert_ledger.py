"""Which alerts went out, so a retry does not repeat a channel and repeats collapse.

One item per collapse key (the same failure of the same run): the SQS message
ids seen, the channels delivered, and when the collapse window ends; for a
failed run, the runs seen, the runs a post has named, and whether a post naming
the others is on its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_item, to_item
from chalicelib.aws.errors import ConditionFailedError, translated

EXPIRY_AFTER_WINDOW_SECONDS = 86400  # the table's TTL attribute: a day after the window ends
MAX_KEPT_TEXT = 8000  # an alert's words as kept: far below DynamoDB's 400 KB item, room for every run's id


@dataclass(frozen=True)
class AlertRecord:
    message_ids: frozenset[str]
    delivered: frozenset[str]
    window_ends: int
    runs: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()  # runs a post named, with their resume command


@dataclass(frozen=True)
class SentAlert:
    """An alert as the ledger keeps it: its last words, and how many messages its window folded."""

    collapse_key: str
    title: str
    text: str
    sent_at: int  # epoch seconds of the last post; 0 when none went out (all folded, or the channels failed)
    window_ends: int
    messages: int
    channels: tuple[str, ...]
    runs: tuple[str, ...]


class AlertLedger:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def record(self, collapse_key: str, message_id: str, now: int, window_seconds: int, run: str | None = None) -> AlertRecord:
        """Note this message (and the run it tells of) under its key: while the window is open, one conditional write;
        when it has ended, or none was opened yet, the next window is opened first and the message joins it."""
        noted = {"message_ids": [message_id], "runs": [run] if run else []}
        for _ in range(2):
            try:
                return _record(self._add(collapse_key, open_at=now, **noted))
            except ConditionFailedError as ended:
                seen_ends = _record(ended.item).window_ends if ended.item else 0
                self._open_window(collapse_key, seen_ends, now + window_seconds)
        raise ConditionFailedError(f"alert ledger {self._table}: the window of {collapse_key} ended as soon as it was opened")

    def _open_window(self, collapse_key: str, seen_ends: int, window_ends: int) -> None:
        """A new window counts and delivers anew (the runs seen and named stay, for a naming post still on its way).
        Only if the window is still the one read: of two consumers that saw it end, one opens the next, and the
        other's message joins it instead of wiping what the first recorded (its post would go out twice)."""
        try:
            with translated(f"cannot write alert ledger {self._table}"):
                self._client.update_item(
                    TableName=self._table, Key=_key(collapse_key),
                    UpdateExpression="SET window_ends = :ends, expires_at = :expires REMOVE message_ids, delivered, title, #text, sent_at",
                    ExpressionAttributeNames={"#text": "text"},
                    ConditionExpression="attribute_not_exists(window_ends) OR window_ends = :seen",
                    ExpressionAttributeValues=to_item({
                        ":ends": window_ends, ":expires": window_ends + EXPIRY_AFTER_WINDOW_SECONDS, ":seen": seen_ends,
                    }),
                )
        except ConditionFailedError:
            pass  # another consumer opened it first

    def claim_post(self, collapse_key: str, mark: str, message_id: str, window_ends: int) -> bool:
        """True for the one message that is to send this window's post `mark` (a channel, at a milestone, ...), and for
        its retries: of two consumers that both found the post not yet delivered, one sends it. A claim of an earlier
        window does not count."""
        claim = f"{window_ends}|{message_id}"
        try:
            with translated(f"cannot claim a post in alert ledger {self._table}"):
                self._client.update_item(
                    TableName=self._table, Key=_key(collapse_key), UpdateExpression="SET #posting = :claim",
                    ConditionExpression="attribute_not_exists(#posting) OR #posting = :claim OR NOT begins_with(#posting, :window)",
                    ExpressionAttributeNames={"#posting": f"posting:{mark}"},
                    ExpressionAttributeValues={":claim": {"S": claim}, ":window": {"S": f"{window_ends}|"}},
                )
        except ConditionFailedError:
            return False
        return True

    def mark_delivered(self, collapse_key: str, channel: str) -> None:
        self._add(collapse_key, delivered=[channel])

    def keep_words(self, collapse_key: str, title: str, text: str, now: int) -> None:
        """The last post's words and time, for the console's Alerts page (what people were told)."""
        with translated(f"cannot update alert ledger {self._table}"):
            self._client.update_item(
                TableName=self._table, Key=_key(collapse_key), UpdateExpression="SET title = :title, #text = :text, sent_at = :now",
                ExpressionAttributeNames={"#text": "text"},  # a reserved word in DynamoDB's expressions
                ExpressionAttributeValues=to_item({":title": title[:MAX_KEPT_TEXT], ":text": text[:MAX_KEPT_TEXT], ":now": now}),
            )

    def recent(self, limit: int = 500) -> list[SentAlert]:
        """The alerts still in the table (a day past each collapse window, its TTL), newest first."""
        items: list[dict[str, Any]] = []
        with translated(f"cannot read alert ledger {self._table}"):
            for page in self._client.get_paginator("scan").paginate(TableName=self._table):
                items.extend(page["Items"])
        sent = [_sent(from_item(item)) for item in items]
        return sorted(sent, key=lambda alert: alert.sent_at, reverse=True)[:limit]

    def mark_named(self, collapse_key: str, runs: list[str]) -> None:
        if runs:
            self._add(collapse_key, named=runs)

    def schedule_naming(self, collapse_key: str) -> bool:
        """True for the one caller that is to send the delayed post naming folded runs; False while one is on its way."""
        try:
            with translated(f"cannot update alert ledger {self._table}"):
                self._client.update_item(
                    TableName=self._table, Key=_key(collapse_key), UpdateExpression="SET naming_due = :yes",
                    ConditionExpression="attribute_not_exists(naming_due)", ExpressionAttributeValues={":yes": {"BOOL": True}},
                )
        except ConditionFailedError:
            return False
        return True

    def cancel_naming(self, collapse_key: str) -> None:
        """The naming post could not be sent: the next fold schedules it again."""
        with translated(f"cannot update alert ledger {self._table}"):
            self._client.update_item(TableName=self._table, Key=_key(collapse_key), UpdateExpression="REMOVE naming_due")

    def take_naming(self, collapse_key: str) -> AlertRecord:
        """The record, as the delayed post finds it; a run folded from now on schedules a post of its own."""
        with translated(f"cannot update alert ledger {self._table}"):
            return _record(self._client.update_item(
                TableName=self._table, Key=_key(collapse_key), UpdateExpression="REMOVE naming_due", ReturnValues="ALL_NEW",
            ).get("Attributes", {}))

    def _add(self, collapse_key: str, open_at: int | None = None, **values: list[str]) -> dict[str, Any]:
        """ADD to the item's sets; with `open_at`, only while its window is open at that time (ConditionFailedError
        carries the item as found)."""
        present = {name: items for name, items in values.items() if items}
        attributes: dict[str, Any] = {f":{name}": {"SS": items} for name, items in present.items()}
        condition: dict[str, Any] = {}
        if open_at is not None:
            attributes[":now"] = {"N": str(open_at)}
            condition = {"ConditionExpression": "window_ends > :now", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        with translated(f"cannot update alert ledger {self._table}"):
            return self._client.update_item(
                TableName=self._table, Key=_key(collapse_key),
                UpdateExpression="ADD " + ", ".join(f"{name} :{name}" for name in present),
                ExpressionAttributeValues=attributes, ReturnValues="ALL_NEW", **condition,
            )["Attributes"]


def channel_of(mark: str) -> str:
    """The channel of a delivered mark (chalicelib/alerts/plan.py's delivered_mark: `slack`, `slack#10`, `sns@<id>`)."""
    return mark.split("@")[0].split("#")[0]


def _sent(values: dict[str, Any]) -> SentAlert:
    return SentAlert(
        collapse_key=str(values["collapse_key"]), title=str(values.get("title", "")), text=str(values.get("text", "")),
        sent_at=int(values.get("sent_at", 0)), window_ends=int(values.get("window_ends", 0)),
        messages=len(values.get("message_ids", set())),
        channels=tuple(sorted({channel_of(mark) for mark in values.get("delivered", set())})),
        runs=tuple(sorted(values.get("runs", set()))),
    )


def _key(collapse_key: str) -> dict[str, Any]:
    return {"collapse_key": {"S": collapse_key}}


def _record(item: dict[str, Any]) -> AlertRecord:
    values = from_item(item)
    return AlertRecord(
        message_ids=frozenset(values.get("message_ids", set())),
        delivered=frozenset(values.get("delivered", set())),
        window_ends=int(values.get("window_ends", 0)),
        runs=frozenset(values.get("runs", set())),
        named=frozenset(values.get("named", set())),
    )
