"""Whether an alert goes out, and to which channels: decided from the alert ledger's record alone (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.aws.alert_ledger import AlertRecord

CHANNELS = ("slack", "sns")
COLLAPSE_WINDOW_SECONDS = 15 * 60  # repeats of the same failure of the same run within it make no new alert


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
