"""EventBridge: rules deliver to Lambda targets, S3's events have AWS's shape, schedules fire only on their ticks."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.utilities.arns import parse_arn

from mlrelay.local.emulated.lambda_ import ASYNC_INVOCATION, InvokeRouter

logger = logging.getLogger(__name__)
_targets_lock = threading.Lock()  # moto's own delivery briefly sees the rule without its Lambda targets


# (rule ARN, target ARN, action) -> whether the target's resource policy lets EventBridge deliver for that rule
MayDeliver = Callable[[str, str, str], bool]
_TARGET_ACTIONS = {"lambda": "lambda:InvokeFunction", "sqs": "sqs:SendMessage", "sns": "sns:Publish"}


@contextmanager
def patched(router: InvokeRouter, may_deliver: MayDeliver = lambda rule, target, action: True) -> Iterator[None]:
    original = Rule.send_to_targets

    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:  # moto's EventMessageType
        if self.scheduled_expression and self.arn not in original_event.get("resources", []):
            return  # not this schedule's own tick
        if not self.event_pattern.matches_event(original_event):
            return
        event = as_aws_sends_it(original_event)
        refused = [t for t in self.targets if not _may_deliver(may_deliver, self, t)]
        for target in refused:
            _dead_letter(may_deliver, self, target, event)
        lambda_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda" and t not in refused]
        for target in lambda_targets:
            function_name = parse_arn(target["Arn"]).resource_id.split(":")[0]
            try:
                router(function_name, transformed(event, target), ASYNC_INVOCATION)
            except Exception:  # moto swallows errors here; say what was lost
                logger.exception("EventBridge could not deliver to %s", function_name)
        if len(lambda_targets) + len(refused) == len(self.targets):
            return
        with _targets_lock:
            all_targets = self.targets
            self.targets = [t for t in all_targets if t not in lambda_targets and t not in refused]
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = all_targets

    with mock.patch.object(Rule, "send_to_targets", send_to_targets):
        yield


def _may_deliver(may_deliver: MayDeliver, rule: Rule, target: dict[str, Any]) -> bool:
    """EventBridge needs the target's resource policy (a Lambda permission, a queue policy) to allow the rule."""
    action = _TARGET_ACTIONS.get(parse_arn(target["Arn"]).service)
    if action is None or may_deliver(rule.arn, target["Arn"], action):
        return True
    logger.error("EventBridge rule %s may not deliver to %s: no resource-based policy allows %s for it", rule.name, target["Arn"], action)
    return False


def _dead_letter(may_deliver: MayDeliver, rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> None:
    """An event EventBridge may not deliver goes to the target's dead-letter queue, if its policy lets the rule send."""
    queue_arn = target.get("DeadLetterConfig", {}).get("Arn")
    if not queue_arn or not may_deliver(rule.arn, queue_arn, "sqs:SendMessage"):
        logger.error("EventBridge rule %s lost an event: no dead-letter queue it may send to", rule.name)
        return
    from moto.sqs.models import sqs_backends

    queue = parse_arn(queue_arn)
    sqs_backends[queue.account][queue.region].send_message(queue.resource_id, json.dumps(event), message_attributes={
        "ERROR_CODE": {"DataType": "String", "StringValue": "NO_PERMISSIONS"},
        "RULE_ARN": {"DataType": "String", "StringValue": rule.arn},
        "TARGET_ARN": {"DataType": "String", "StringValue": target["Arn"]},
    })


def transformed(event: Any, target: dict[str, Any]) -> Any:
    """Apply the target's InputTransformer, as EventBridge does before invoking."""
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    rendered = EventTemplateParser.parse(
        input_template=transformer["InputTemplate"], input_paths_map=transformer.get("InputPathsMap", {}), event=event
    )
    return json.loads(rendered) if isinstance(rendered, str) else rendered


def as_aws_sends_it(event: dict[str, Any]) -> dict[str, Any]:
    """moto sends S3 events with a Unix `time` and `eTag`; AWS sends ISO-8601 and `etag`."""
    event = dict(event)
    if isinstance(event.get("time"), (int, float)):
        event["time"] = datetime.fromtimestamp(event["time"], tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    s3_object = event.get("detail", {}).get("object") if event.get("source") == "aws.s3" else None
    if isinstance(s3_object, dict) and "eTag" in s3_object:
        event["detail"] = {**event["detail"], "object": {**s3_object}}
        event["detail"]["object"]["etag"] = event["detail"]["object"].pop("eTag")
    return event


def fire_schedule(account: str, region: str, rule_name: str, at: datetime) -> bool:
    """Deliver the default bus's schedule rule `rule_name`'s event now, as if its time `at` had come (moto fires no
    schedules); False when there is no such schedule rule."""
    from moto.events.models import events_backends

    rule = events_backends[account][region].event_buses["default"].rules.get(rule_name)
    if rule is None or not rule.scheduled_expression:
        return False
    event: Any = {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": account, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [rule.arn], "detail": {}, "ingestion-time": time.time(),
    }
    rule.send_to_targets(event)
    return True


def put_events(account: str, region: str, entries: list[dict[str, Any]]) -> None:
    """PutEvents from inside the emulator, as a service (SageMaker, the scheduler) sends them: no caller's permissions."""
    from moto.events.models import events_backends

    events_backends[account][region].put_events(entries)
