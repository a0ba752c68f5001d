"""Task tokens of waiting workflows, stored against the pipeline execution they wait for."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import to_item
from chalicelib.aws.errors import ConditionFailedError, translated


class OutcomeConflictError(ConditionFailedError):
    """The execution's outcome was recorded first with another status (a stale or contradicting event)."""


class PipelineCallbacks:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def record_outcome(self, execution_arn: str, status: str, failure_reason: str) -> str | None:
        """Store how the pipeline ended; returns the task token if the workflow is already waiting.

        One conditional write: the first outcome stands, and a repeat of it (a duplicate event) still reads the
        token. Raises OutcomeConflictError when another outcome was recorded for the execution first."""
        try:
            with translated(f"cannot record the outcome of {execution_arn}"):
                item = self._client.update_item(
                    TableName=self._table,
                    Key=_key(execution_arn),
                    UpdateExpression="SET pipeline_status = :status, failure_reason = :reason",
                    ConditionExpression="attribute_not_exists(pipeline_status) OR pipeline_status = :status",
                    ExpressionAttributeValues=to_item({":status": status, ":reason": failure_reason}),
                    ReturnValues="ALL_NEW",
                )["Attributes"]
        except ConditionFailedError as err:
            raise OutcomeConflictError(f"pipeline execution {execution_arn} already has another outcome than {status}") from err
        return item.get("task_token", {}).get("S")

    def claim_delivery(self, execution_arn: str, now_iso: str) -> bool:
        """True for the first caller only: duplicate status events must not answer twice."""
        return self._update_if(execution_arn, "mark the callback", "SET delivered_at = :at", "attribute_not_exists(delivered_at)", now_iso)

    def release_delivery(self, execution_arn: str, claimed_at: str) -> None:
        """Give back a claim whose callback failed, so that Lambda's retry of the event delivers it
        (only our own claim: the condition names the time it was taken; someone else's is theirs to deliver)."""
        self._update_if(execution_arn, "release the callback claim", "REMOVE delivered_at", "delivered_at = :at", claimed_at)

    def _update_if(self, execution_arn: str, what: str, update: str, condition: str, at: str) -> bool:
        """One conditional write: False when the condition did not hold."""
        try:
            with translated(f"cannot {what} of {execution_arn}"):
                self._client.update_item(
                    TableName=self._table, Key=_key(execution_arn), UpdateExpression=update,
                    ConditionExpression=condition, ExpressionAttributeValues=to_item({":at": at}),
                )
        except ConditionFailedError:
            return False
        return True

    def forget(self, execution_arn: str) -> None:
        """Drop a finished pipeline's outcome and token, so that its retry is waited for afresh."""
        with translated(f"cannot reset the callback of {execution_arn}"):
            self._client.delete_item(TableName=self._table, Key=_key(execution_arn))


def _key(execution_arn: str) -> dict[str, Any]:
    return {"pipeline_execution_arn": {"S": execution_arn}}
