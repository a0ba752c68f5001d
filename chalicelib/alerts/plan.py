"""Whether an alert goes out, and to which channels: decided from the alert ledger's record alone (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.aws.alert_ledger import AlertRecord

CHANNELS = ("slack", "sns")
COLLAPSE_WINDOW_SECONDS = 15 * 60  # repeats of the same failure of the same run within it make no new alert


@dataclass(frozen=True)
class DeliveryPlan:
    channels: tuple[str, ...]  # still to send, in order
    collapsed: bool  # a repeat within the window: counted, not sent
    repeats: int


def plan_delivery(record: AlertRecord, message_id: str, wanted: tuple[str, ...] = CHANNELS) -> DeliveryPlan:
    others = record.message_ids - {message_id}
    if others and set(wanted) <= record.delivered:
        return DeliveryPlan((), collapsed=True, repeats=len(record.message_ids))
    return DeliveryPlan(tuple(c for c in wanted if c not in record.delivered), collapsed=False, repeats=len(record.message_ids))


def wanted_channels(kind: str | None, preferences: dict[str, Any] | None) -> tuple[str, ...]:
    """The channels a model's notifications settings ask for this kind of notice (all of them without settings).

    `kind` is failure, promotion, rejection or inference; None for notices no model's settings govern (a
    rejected config, a failing trigger, an unreadable message): those always go out.
    """
    if kind is None or preferences is None:
        return CHANNELS
    if kind not in preferences.get("notify_on", []):
        return ()
    return tuple(channel for channel in CHANNELS if preferences.get(channel, True))


def notice_kind(message: Any) -> str | None:
    """What kind of notice a message is, for the model's notify_on (chalicelib/config/schema.py)."""
    kind = getattr(message, "kind", None)
    if kind == "predictions_loaded":
        return "failure" if message.far_from_previous else "inference"  # a load far from the last one is news
    if kind == "model_decided":
        return "rejection" if message.action == "reject" else "promotion"
    return {"step_failed": "failure", "daily_inference_stale": "failure", "model_promoted": "promotion",
            "model_rejected": "rejection", "model_pending_approval": "promotion"}.get(str(kind))
