"""Sending messages to the failure path."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


class Queue:
    def __init__(self, queue_url: str, sqs_client: Any = None):
        self._url = queue_url
        self._client = sqs_client or client("sqs")

    def send(self, message: BaseModel) -> str:
        try:
            response = self._client.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json())
        except ClientError as err:
            raise AwsError(f"cannot send to {self._url}: {error_code(err)}") from err
        return str(response["MessageId"])
