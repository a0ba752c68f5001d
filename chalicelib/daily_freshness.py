"""An hourly check: a model that asks for daily predictions but has had none for 36 hours is news.

The daily run may have failed (that alert went out already) or never started
(a disabled rule, a lost schedule): either way, people hear it once a day per
model, through the notifications path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from chalicelib import settings
from chalicelib.aws.sqs import Queue
from chalicelib.aws.watermarks import DailyWatermarks
from chalicelib.inference_schedule import models_wanting
from chalicelib.messages import DailyInferenceStale

STALE_AFTER = timedelta(hours=36)


class FreshnessCheck(BaseModel):
    checked_at: datetime


def is_stale(now: datetime, last_success: datetime | None, approved_at: datetime) -> bool:
    """No successful daily run for 36 hours (counting from approval when there has been none)."""
    return now - (last_success or approved_at) > STALE_AFTER


def handle_daily_freshness(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = FreshnessCheck.model_validate(event).checked_at
    watermarks = DailyWatermarks(settings.runs_table())
    stale = []
    for record in models_wanting("daily"):
        last = watermarks.last_success(record.model_name)
        if is_stale(now, last, datetime.fromisoformat(record.created_at)):
            notice = DailyInferenceStale(model_name=record.model_name, last_success=last, checked_at=now)
            Queue(settings.notifications_queue_url()).send(notice)
            stale.append(record.model_name)
    return {"stale": stale}
