"""How far daily inference has got per model, kept in the runs table.

The item `watermark#daily#<model>` holds the `until` date of the last
successful daily run; the next daily run predicts items added since then.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


class DailyWatermarks:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def last_until(self, model_name: str) -> date | None:
        item = self._item(model_name)
        return date.fromisoformat(item["until"]["S"]) if item else None

    def last_success(self, model_name: str) -> datetime | None:
        """When the last successful daily run finished loading."""
        item = self._item(model_name)
        return datetime.fromisoformat(item["succeeded_at"]["S"]) if item and "succeeded_at" in item else None

    def _item(self, model_name: str) -> dict[str, Any] | None:
        return self._client.get_item(TableName=self._table, Key=self._key(model_name), ConsistentRead=True).get("Item")

    def advance(self, model_name: str, until: date, run_id: str) -> None:
        """Move forward only: a late rerun of an older day must not pull it back."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(model_name), "until": {"S": until.isoformat()}, "last_run_id": {"S": run_id},
                    "succeeded_at": {"S": datetime.now(timezone.utc).isoformat()},
                },
                ConditionExpression="attribute_not_exists(#until) OR #until <= :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":until": {"S": until.isoformat()}},
            )
        except ClientError as err:
            if error_code(err) != "ConditionalCheckFailedException":
                raise AwsError(f"cannot record the daily watermark of {model_name}: {error_code(err)}") from err

    @staticmethod
    def _key(model_name: str) -> dict[str, Any]:
        return {"run_id": {"S": f"watermark#daily#{model_name}"}}


class RowCounts:
    """The row count of each model's last successful run per mode (item `rows#<mode>#<model>`)."""

    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def swap(self, model_name: str, mode: str, rows: int, run_id: str) -> int | None:
        """Record this run's count; returns the previous run's (None for the first, or for a rerun of it)."""
        try:
            old = self._client.put_item(
                TableName=self._table,
                Item={"run_id": {"S": f"rows#{mode}#{model_name}"}, "rows": {"N": str(rows)}, "last_run_id": {"S": run_id}},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except ClientError as err:
            raise AwsError(f"cannot record the row count of {model_name}: {error_code(err)}") from err
        if not old or old.get("last_run_id", {}).get("S") == run_id:
            return None
        return int(old["rows"]["N"])
