"""Per-model bookkeeping of inference runs, kept in the runs table.

`watermark#daily#<model>` holds the `until` date of the last successful daily
run (the next daily run predicts items added since then); `rows#<mode>#<model>`
holds the row count of the last successful run of that mode.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_item, to_item
from chalicelib.aws.errors import ConditionFailedError, translated


class DailyWatermarks:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def last_until(self, model_name: str) -> date | None:
        item = self._item(model_name)
        return date.fromisoformat(item["until"]) if item else None

    def last_success(self, model_name: str) -> datetime | None:
        """When the last successful daily run finished loading."""
        item = self._item(model_name)
        return datetime.fromisoformat(item["succeeded_at"]) if item and "succeeded_at" in item else None

    def advance(self, model_name: str, until: date, run_id: str) -> None:
        """Move forward only: a late rerun of an older day must not pull it back."""
        try:
            with translated(f"cannot record the daily watermark of {model_name}"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item({
                        **self._key(model_name), "until": until.isoformat(), "last_run_id": run_id,
                        "succeeded_at": datetime.now(UTC).isoformat(),
                    }),
                    ConditionExpression="attribute_not_exists(#until) OR #until <= :until",
                    ExpressionAttributeNames={"#until": "until"},
                    ExpressionAttributeValues=to_item({":until": until.isoformat()}),
                )
        except ConditionFailedError:
            pass  # a newer day is recorded already

    def _item(self, model_name: str) -> dict[str, Any] | None:
        with translated(f"cannot read the daily watermark of {model_name}"):
            item = self._client.get_item(TableName=self._table, Key=to_item(self._key(model_name)), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    @staticmethod
    def _key(model_name: str) -> dict[str, str]:
        return {"run_id": watermark_key(model_name)}


class RowCounts:
    """The row count of each model's last successful run per mode (item `rows#<mode>#<model>`)."""

    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def swap(self, model_name: str, mode: str, rows: int, run_id: str) -> int | None:
        """Record this run's count; returns the previous run's (None for the first, or for a rerun of it)."""
        with translated(f"cannot record the row count of {model_name}"):
            old = self._client.put_item(
                TableName=self._table,
                Item=to_item({"run_id": row_count_key(model_name, mode), "rows": rows, "last_run_id": run_id}),
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        previous = from_item(old) if old else None
        if not previous or previous.get("last_run_id") == run_id:
            return None
        return int(previous["rows"])


class PredictionRuns:
    """The loaded runs of each model version, oldest first (item `predictions#<model>#<version>`): where a labels
    file finds the predictions it is judged against."""

    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def add(self, model_name: str, version: int, run_id: str) -> None:
        """Append once: a rerun of a loaded run's last step must not list it twice."""
        try:
            with translated(f"cannot record run {run_id} as loaded for {model_name} version {version}"):
                self._client.update_item(
                    TableName=self._table,
                    Key=to_item(self._key(model_name, version)),
                    UpdateExpression="SET runs = list_append(if_not_exists(runs, :none), :run)",
                    ConditionExpression="attribute_not_exists(runs) OR NOT contains(runs, :id)",
                    ExpressionAttributeValues=to_item({":none": [], ":run": [run_id], ":id": run_id}),
                )
        except ConditionFailedError:
            pass  # listed already

    def newest(self, model_name: str, version: int, limit: int) -> list[str]:
        with translated(f"cannot read the loaded runs of {model_name} version {version}"):
            item = self._client.get_item(
                TableName=self._table, Key=to_item(self._key(model_name, version)), ConsistentRead=True,
            ).get("Item")
        runs = from_item(item).get("runs", []) if item else []
        return list(reversed(runs))[:limit]

    @staticmethod
    def _key(model_name: str, version: int) -> dict[str, str]:
        return {"run_id": prediction_runs_key(model_name, version)}


def watermark_key(model_name: str) -> str:
    return f"watermark#daily#{model_name}"


def row_count_key(model_name: str, mode: str) -> str:
    return f"rows#{mode}#{model_name}"


def prediction_runs_key(model_name: str, version: int) -> str:
    return f"predictions#{model_name}#{version}"
