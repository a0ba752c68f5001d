"""Task tokens of waiting workflows, stored against the pipeline execution they wait for."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import to_item
from chalicelib.aws.errors import ConditionFailedError, translated


class PipelineCallbacks:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def record_outcome(self, execution_arn: str, status: str, failure_reason: str) -> str | None:
        """Store how the pipeline ended; returns the task token if the workflow is already waiting."""
        with translated(f"cannot record the outcome of {execution_arn}"):
            item = self._client.update_item(
                TableName=self._table,
                Key=_key(execution_arn),
                UpdateExpression="SET pipeline_status = :status, failure_reason = :reason",
                ExpressionAttributeValues=to_item({":status": status, ":reason": failure_reason}),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        return item.get("task_token", {}).get("S")

    def claim_delivery(self, execution_arn: str, now_iso: str) -> bool:
        """True for the first caller only: duplicate status events must not answer twice."""
        try:
            with translated(f"cannot mark the callback of {execution_arn}"):
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(execution_arn),
                    UpdateExpression="SET delivered_at = :now",
                    ConditionExpression="attribute_not_exists(delivered_at)",
                    ExpressionAttributeValues=to_item({":now": now_iso}),
                )
        except ConditionFailedError:
            return False
        return True

    def release_delivery(self, execution_arn: str, claimed_at: str) -> None:
        """Give back a claim whose callback failed, so that Lambda's retry of the event delivers it
        (only our own claim: the condition names the time it was taken)."""
        try:
            with translated(f"cannot release the callback claim of {execution_arn}"):
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(execution_arn),
                    UpdateExpression="REMOVE delivered_at",
                    ConditionExpression="delivered_at = :claimed",
                    ExpressionAttributeValues=to_item({":claimed": claimed_at}),
                )
        except ConditionFailedError:
            pass  # someone else's claim now: theirs to deliver

    def forget(self, execution_arn: str) -> None:
        """Drop a finished pipeline's outcome and token, so that its retry is waited for afresh."""
        with translated(f"cannot reset the callback of {execution_arn}"):
            self._client.delete_item(TableName=self._table, Key=_key(execution_arn))


def _key(execution_arn: str) -> dict[str, Any]:
    return {"pipeline_execution_arn": {"S": execution_arn}}
