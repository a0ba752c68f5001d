"""An hourly check: a model that asks for daily predictions but has had none for 36 hours is news.

The daily run may have failed (that alert went out already) or never started
(a disabled rule, a lost schedule): either way, people hear it once a day per
model, through the notifications path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.inference.plan import is_stale
from chalicelib.inference.requests import FreshnessCheck
from chalicelib.inference.schedule import models_wanting
from chalicelib.shared.messages import DailyInferenceStale
from chalicelib.shared.port_roles import InferencePorts
from chalicelib.shared.ports import aws_ports


def handle_daily_freshness(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"stale": stale_models(FreshnessCheck.model_validate(event).checked_at, aws_ports())}


def stale_models(now: datetime, ports: InferencePorts) -> list[str]:
    stale = []
    for record in models_wanting("daily", ports):
        last = ports.watermarks.last_success(record.model_name)
        if is_stale(now, last, datetime.fromisoformat(record.created_at)):
            ports.notifications.send(DailyInferenceStale(model_name=record.model_name, last_success=last, checked_at=now))
            stale.append(record.model_name)
    return stale
