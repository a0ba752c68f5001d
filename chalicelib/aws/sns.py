"""The SNS alerts topic (email and whatever else people subscribe)."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import translated


class AlertsTopic:
    def __init__(self, topic_arn: str, sns_client: Any = None):
        self._topic = topic_arn
        self._client = sns_client or client("sns")

    def publish(self, subject: str, body: str) -> str:
        with translated(f"cannot publish to {self._topic}"):
            return str(self._client.publish(TopicArn=self._topic, Subject=subject, Message=body)["MessageId"])
