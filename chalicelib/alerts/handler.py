"""The alerts consumer: every message on the failures and notifications queues reaches people once.

Records are parsed into their message models by Powertools' BatchProcessor
(an SQS record model whose body is an AlertMessage), then handled one by one;
a record whose delivery fails is reported in batchItemFailures (the event
source mapping in infra/resources.json sets ReportBatchItemFailures, which
Chalice cannot), so only it returns to the queue, and after maxReceiveCount
it lands in the DLQ. A body that is no known message is not retried (it
never will be one): it becomes an "unreadable" alert naming its problems.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from pydantic import BaseModel, Json, ValidationError, model_validator

from chalicelib.alerts.content import Alert, alert_for
from chalicelib.alerts.plan import (
    COLLAPSE_WINDOW_SECONDS,
    is_resumed_attempt,
    notice_kind,
    plan_delivery,
    runs_to_name,
    told_by_its_family,
    wanted_channels,
)
from chalicelib.aws.errors import AwsError
from chalicelib.aws.slack import SlackDeliveryError
from chalicelib.shared import settings
from chalicelib.shared.messages import AlertMessage, FoldedRuns, StepFailed, UnreadableMessage
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import AlertsPorts
from chalicelib.shared.ports import aws_ports


class AlertNotDeliveredError(RuntimeError):
    """At least one channel refused the alert; the record goes back to the queue."""


class AlertQueueRecord(BaseModel):
    """An SQS record from the failures or notifications queue, its body parsed into the message it carries."""

    messageId: str
    body: Json[AlertMessage]

    @model_validator(mode="wrap")
    @classmethod
    def _unreadable_body_is_reported(cls, data: Any, handler: Any) -> AlertQueueRecord:
        try:
            return handler(data)
        except ValidationError as err:
            if not isinstance(data, dict) or "messageId" not in data:
                raise
            problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or '(body)'}: {e['msg']}" for e in err.errors()]
            unreadable = UnreadableMessage(body=str(data.get("body", ""))[:10_000], problems=problems[:20])
            return cls.model_construct(messageId=data["messageId"], body=unreadable)


def handle_alerts(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # Powertools parses each record with any pydantic model; its hint names only its own record models
    processor = BatchProcessor(event_type=EventType.SQS, model=AlertQueueRecord)  # type: ignore[arg-type]
    ports, region = aws_ports(), settings.region()
    return process_partial_response(
        event=event, record_handler=lambda record: deliver(record, ports, region), processor=processor, context=context,
    )


def deliver(record: AlertQueueRecord, ports: AlertsPorts, region: str) -> None:
    if isinstance(record.body, UnreadableMessage):
        logger.error("unreadable queue message", extra={"message_id": record.messageId, "problems": record.body.problems})
    if told_by_its_family(record.body):
        logger.info("a segment's own notice: its family run's one notice tells of it", extra={"run_id": record.body.run_id})
        return
    if isinstance(record.body, FoldedRuns):
        _name_folded_runs(record.body, ports, region)
        return
    alert = alert_for(record.body, region, settings.cli_command())
    kind = notice_kind(record.body)
    model = getattr(record.body, "model_name", None)  # every kind of notice names its model
    wanted = wanted_channels(kind, ports.preferences.get(model) if kind and model else None)
    if not wanted:
        logger.info("the model's notifications settings ask for no notice of this kind", extra={"key": alert.collapse_key})
        return
    run = record.body.run_id if isinstance(record.body, StepFailed) else None
    seen = ports.alert_ledger.record(alert.collapse_key, record.messageId, int(time.time()), COLLAPSE_WINDOW_SECONDS, run=run)
    plan = plan_delivery(seen, record.messageId, wanted, own_post=is_resumed_attempt(record.body))
    if plan.collapsed:
        logger.info("repeat collapsed into an earlier alert", extra={"key": alert.collapse_key, "repeats": plan.repeats})
        if isinstance(record.body, StepFailed) and run not in seen.named and ports.alert_ledger.schedule_naming(alert.collapse_key):
            folded = FoldedRuns(collapse_key=alert.collapse_key, workflow=record.body.workflow, model_name=record.body.model_name,
                                state=record.body.state, error=record.body.error)
            try:
                ports.failures.send(folded, delay_seconds=settings.folded_runs_delay_seconds())
            except AwsError:
                ports.alert_ledger.cancel_naming(alert.collapse_key)  # the record's retry schedules it again
                raise
        return
    if plan.milestone:
        alert = alert.repeated(plan.milestone, seen.window_ends - COLLAPSE_WINDOW_SECONDS, int(time.time()))
    undelivered: list[Exception] = []
    sent = False
    for channel in plan.channels:
        if not ports.alert_ledger.claim_post(alert.collapse_key, plan.delivered_mark(channel), record.messageId, seen.window_ends):
            logger.info("another message of the window is sending its post", extra={"key": alert.collapse_key, "channel": channel})
            continue
        try:
            _send(channel, alert, ports)
        except (SlackDeliveryError, AwsError) as err:  # one channel down must not silence the other
            logger.warning("alert not delivered", extra={"channel": channel, "key": alert.collapse_key, "error": str(err)})
            undelivered.append(err)
            continue
        ports.alert_ledger.mark_delivered(alert.collapse_key, plan.delivered_mark(channel))
        sent = True
    if sent:
        ports.alert_ledger.keep_words(alert.collapse_key, alert.title, alert.sns_body(), int(time.time()))
    if undelivered:  # the record stays on the queue; its retry sends only to the channels that failed
        raise AlertNotDeliveredError(f"{len(undelivered)} channel(s) failed: {undelivered[0]}") from undelivered[0]
    if run:
        ports.alert_ledger.mark_named(alert.collapse_key, [run])


def _name_folded_runs(message: FoldedRuns, ports: AlertsPorts, region: str) -> None:
    """The delayed post: every run that folded since a post last named runs of this failure, with its resume command."""
    runs = runs_to_name(ports.alert_ledger.take_naming(message.collapse_key))
    if not runs:
        return
    alert = alert_for(message.model_copy(update={"runs": runs}), region, settings.cli_command())
    wanted = wanted_channels("failure", ports.preferences.get(message.model_name))
    undelivered: list[Exception] = []
    for channel in wanted:
        try:
            _send(channel, alert, ports)
        except (SlackDeliveryError, AwsError) as err:
            undelivered.append(err)
    if len(undelivered) == len(wanted) and undelivered:  # no channel named them: the message comes back to try again
        raise AlertNotDeliveredError(f"the folded runs were not named: {undelivered[0]}") from undelivered[0]
    ports.alert_ledger.mark_named(message.collapse_key, runs)
    ports.alert_ledger.keep_words(message.collapse_key, alert.title, alert.sns_body(), int(time.time()))


def _send(channel: str, alert: Alert, ports: AlertsPorts) -> None:
    if channel == "slack":
        ports.slack.post(alert.slack())
    else:
        ports.topic.publish(alert.sns_subject(), alert.sns_body())
