"""SQS event source mappings, locally: poll a queue, invoke the function, delete what succeeded.

As Lambda's poller does: batches of up to BatchSize records, and with
ReportBatchItemFailures only the records named in batchItemFailures stay on
the queue (the rest are deleted); a function error leaves the whole batch.
Records left behind reappear after the queue's visibility timeout, and moto
moves them to the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MappingSpec:
    queue_url: str
    queue_arn: str
    function_name: str
    batch_size: int
    report_batch_item_failures: bool


class SqsPoller:
    def __init__(self, spec: MappingSpec, sqs: Any, invoke: Callable[[str, Any, str], bytes | None], region: str):
        self._spec = spec
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sqs-poller-{spec.function_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._sqs.receive_message(
                    QueueUrl=self._spec.queue_url, MaxNumberOfMessages=min(self._spec.batch_size, 10),
                    WaitTimeSeconds=1, AttributeNames=["All"],
                ).get("Messages", [])
            except Exception:
                if not self._stop.wait(0.5):
                    continue
                return
            if batch:
                self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in batch]}
        try:
            answer = json.loads(self._invoke(self._spec.function_name, event, "RequestResponse") or b"{}")
        except Exception:
            logger.warning("%s failed on a batch of %d; the records will be retried", self._spec.function_name, len(batch))
            return
        reported = (answer or {}).get("batchItemFailures", []) if self._spec.report_batch_item_failures else []
        failed = {f["itemIdentifier"] for f in reported}
        for message in batch:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self._spec.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs", "eventSourceARN": self._spec.queue_arn, "awsRegion": self._region,
        }
