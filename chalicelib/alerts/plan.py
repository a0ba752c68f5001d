"""Whether an alert goes out, and to which channels: decided from the alert ledger's record alone (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from chalicelib.aws.alert_ledger import AlertRecord
from chalicelib.shared.messages import StepFailed, TrainingOutcome
from chalicelib.shared.naming import SEGMENT_RUN_PREFIX

CHANNELS = ("slack", "sns")
_RESUMED_ATTEMPT = re.compile(r"-r\d{1,2}$")
COLLAPSE_WINDOW_SECONDS = 15 * 60  # identical failures within it fold into one alert with a count


@dataclass(frozen=True)
class DeliveryPlan:
    channels: tuple[str, ...]  # still to send, in order
    collapsed: bool  # a repeat within the window: counted, not sent
    repeats: int
    milestone: int | None = None  # a storm: the count this post announces (10, 100, 1000, ...)

    message_id: str | None = None  # a post of its own for this message (a resumed run's failure)

    def delivered_mark(self, channel: str) -> str:
        """What the ledger records as sent: the channel, at this milestone, or for this message."""
        if self.message_id:
            return f"{channel}@{self.message_id}"
        return f"{channel}#{self.milestone}" if self.milestone else channel


def plan_delivery(record: AlertRecord, message_id: str, wanted: tuple[str, ...] = CHANNELS, own_post: bool = False) -> DeliveryPlan:
    """The first failure of a window goes out; repeats are counted, and a storm is announced again at 10, 100,
    1,000 repeats, so hundreds of identical failures make a handful of posts and none is uncounted. `own_post`: this
    message is told whatever came before (a resumed run failing again is news to the person who resumed it)."""
    count = len(record.message_ids)
    if own_post:
        due = tuple(c for c in wanted if f"{c}@{message_id}" not in record.delivered)
        return DeliveryPlan(due, collapsed=not due, repeats=count, message_id=message_id)
    first_undelivered = tuple(c for c in wanted if c not in record.delivered)
    if not record.message_ids - {message_id} or first_undelivered:
        return DeliveryPlan(first_undelivered, collapsed=False, repeats=count)
    if is_milestone(count):
        due = tuple(c for c in wanted if f"{c}#{count}" not in record.delivered)
        return DeliveryPlan(due, collapsed=not due, repeats=count, milestone=count)
    return DeliveryPlan((), collapsed=True, repeats=count)


def runs_to_name(record: AlertRecord) -> list[str]:
    """Failed runs that folded into the window's posts and no post has named yet."""
    return sorted(record.runs - record.named)


def is_resumed_attempt(message: Any) -> bool:
    """A step_failed message of a resumed run's attempt (its execution is named <run>-r<N>)."""
    name = str(getattr(message, "execution_arn", "")).rsplit(":", 1)[-1]
    return bool(_RESUMED_ATTEMPT.search(name))


def is_milestone(count: int) -> bool:
    return count >= 10 and str(count).rstrip("0") == "1"


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


def told_by_its_family(message: Any) -> TypeGuard[StepFailed | TrainingOutcome]:
    """A segment's training run failing or being judged: its family run's one notice (or failure) tells of all of them."""
    return getattr(message, "kind", None) in ("step_failed", "model_promoted", "model_rejected", "model_pending_approval") and \
        str(getattr(message, "run_id", "")).startswith(f"{SEGMENT_RUN_PREFIX}-")


def notice_kind(message: Any) -> str | None:
    """What kind of notice a message is, for the model's notify_on (chalicelib/config/schema.py)."""
    kind = getattr(message, "kind", None)
    if kind == "predictions_loaded":
        return "failure" if message.far_from_previous else "inference"  # a load far from the last one is news
    if kind == "segments_trained":
        return "promotion"
    if kind == "model_quality_measured":
        return "failure" if message.dropped else "inference"
    if kind == "model_decided":
        return "rejection" if message.action == "reject" else "promotion"
    return {"step_failed": "failure", "daily_inference_stale": "failure", "data_drift_detected": "failure", "model_promoted": "promotion",
            "model_rejected": "rejection", "model_pending_approval": "promotion"}.get(str(kind))
