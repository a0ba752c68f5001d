"""The alerts consumer: every message on the failures and notifications queues reaches people once.

Records are handled one by one with Powertools' BatchProcessor; a record whose
delivery fails is reported in batchItemFailures (the event source mapping in
infra/resources.json sets ReportBatchItemFailures, which Chalice cannot), so
only it returns to the queue, and after maxReceiveCount it lands in the DLQ.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import settings
from chalicelib.alert_content import Alert, alert_for
from chalicelib.aws.alert_ledger import AlertLedger, AlertRecord
from chalicelib.aws.errors import AwsError
from chalicelib.aws.notify import AlertsTopic, SlackDeliveryError, SlackWebhook
from chalicelib.observability import logger

CHANNELS = ("slack", "sns")
COLLAPSE_WINDOW_SECONDS = 15 * 60  # repeats of the same failure of the same run within it make no new alert


class AlertNotDeliveredError(RuntimeError):
    """At least one channel refused the alert; the record goes back to the queue."""


@dataclass(frozen=True)
class DeliveryPlan:
    channels: tuple[str, ...]  # still to send, in order
    collapsed: bool  # a repeat within the window: counted, not sent
    repeats: int


def plan_delivery(record: AlertRecord, message_id: str) -> DeliveryPlan:
    others = record.message_ids - {message_id}
    if others and set(CHANNELS) <= record.delivered:
        return DeliveryPlan((), collapsed=True, repeats=len(record.message_ids))
    return DeliveryPlan(tuple(c for c in CHANNELS if c not in record.delivered), collapsed=False, repeats=len(record.message_ids))


def handle_alerts(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)


def deliver(record: SQSRecord) -> None:
    alert = alert_for(json.loads(record.body), settings.region())
    ledger = AlertLedger(settings.alerts_table())
    plan = plan_delivery(ledger.record(alert.collapse_key, record.message_id, int(time.time()), COLLAPSE_WINDOW_SECONDS), record.message_id)
    if plan.collapsed:
        logger.info("repeat collapsed into an earlier alert", extra={"key": alert.collapse_key, "repeats": plan.repeats})
        return
    undelivered: list[Exception] = []
    for channel in plan.channels:
        try:
            _send(channel, alert)
        except (SlackDeliveryError, AwsError) as err:  # one channel down must not silence the other
            logger.warning("alert not delivered", extra={"channel": channel, "key": alert.collapse_key, "error": str(err)})
            undelivered.append(err)
            continue
        ledger.mark_delivered(alert.collapse_key, channel)
    if undelivered:  # the record stays on the queue; its retry sends only to the channels that failed
        raise AlertNotDeliveredError(f"{len(undelivered)} channel(s) failed: {undelivered[0]}") from undelivered[0]


def _send(channel: str, alert: Alert) -> None:
    if channel == "slack":
        SlackWebhook(settings.slack_webhook_parameter(), settings.slack_min_interval_seconds()).post(alert.slack())
    else:
        AlertsTopic(settings.alerts_topic_arn()).publish(alert.sns_subject(), alert.sns_body())
