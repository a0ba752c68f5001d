"""Task tokens of waiting workflows, stored against the pipeline execution they wait for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


@dataclass(frozen=True)
class CallbackRecord:
    task_token: str | None  # None when the workflow has not stored it yet
    already_delivered: bool


class PipelineCallbacks:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def record_outcome(self, execution_arn: str, status: str, failure_reason: str) -> CallbackRecord:
        """Store how the pipeline ended; returns the token if the workflow is already waiting."""
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key={"pipeline_execution_arn": {"S": execution_arn}},
                UpdateExpression="SET pipeline_status = :status, failure_reason = :reason",
                ExpressionAttributeValues={":status": {"S": status}, ":reason": {"S": failure_reason}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as err:
            raise AwsError(f"cannot record the outcome of {execution_arn}: {error_code(err)}") from err
        token = item.get("task_token", {}).get("S")
        return CallbackRecord(token, "delivered_at" in item)

    def claim_delivery(self, execution_arn: str, now_iso: str) -> bool:
        """True for the first caller only: duplicate status events must not answer twice."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pipeline_execution_arn": {"S": execution_arn}},
                UpdateExpression="SET delivered_at = :now",
                ConditionExpression="attribute_not_exists(delivered_at)",
                ExpressionAttributeValues={":now": {"S": now_iso}},
            )
        except ClientError as err:
            if error_code(err) == "ConditionalCheckFailedException":
                return False
            raise AwsError(f"cannot mark the callback of {execution_arn}: {error_code(err)}") from err
        return True

    def forget(self, execution_arn: str) -> None:
        """Drop a finished pipeline's outcome and token, so that its retry is waited for afresh."""
        try:
            self._client.delete_item(TableName=self._table, Key={"pipeline_execution_arn": {"S": execution_arn}})
        except ClientError as err:
            raise AwsError(f"cannot reset the callback of {execution_arn}: {error_code(err)}") from err
