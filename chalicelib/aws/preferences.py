"""Who hears about what, per model: the notifications section of its latest valid config (in the runs table)."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_item, to_item
from chalicelib.aws.errors import translated


class NotificationPreferences:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def put(self, model_name: str, notifications: dict[str, Any]) -> None:
        with translated(f"cannot record the notification settings of {model_name}"):
            self._client.put_item(TableName=self._table, Item=to_item({"run_id": preferences_key(model_name),
                                                                     "notifications": notifications}))

    def get(self, model_name: str) -> dict[str, Any] | None:
        with translated(f"cannot read the notification settings of {model_name}"):
            item = self._client.get_item(TableName=self._table, Key={"run_id": {"S": preferences_key(model_name)}}).get("Item")
        return from_item(item)["notifications"] if item else None


def preferences_key(model_name: str) -> str:
    """The model's item in the runs table."""
    return f"notify#{model_name}"
