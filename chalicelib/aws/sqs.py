"""Sending messages to the failures and notifications queues."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.aws.clients import client
from chalicelib.aws.errors import translated


class Queue:
    def __init__(self, queue_url: str, sqs_client: Any = None):
        self._url = queue_url
        self._client = sqs_client or client("sqs")

    def send(self, message: BaseModel, delay_seconds: int = 0) -> str:
        with translated(f"cannot send to {self._url}"):
            response = self._client.send_message(QueueUrl=self._url, MessageBody=message.model_dump_json(),
                                                 DelaySeconds=delay_seconds)
        return str(response["MessageId"])
