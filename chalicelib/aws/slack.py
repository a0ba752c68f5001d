"""A Slack incoming webhook, paced and retried by slack_sdk's own handlers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities import parameters
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

WEBHOOK_CACHE_SECONDS = 300  # a rotated webhook URL is picked up within five minutes


class Pacer:
    """Keeps posts from one process at least `interval` seconds apart (Slack allows about one a second)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait_turn(self, interval: float) -> None:
        with self._lock:
            if self._last is not None:
                self._sleep(max(0.0, self._last + interval - self._clock()))
            self._last = self._clock()


_pacer = Pacer()  # one per Lambda container; the event source mapping's MaximumConcurrency bounds containers


class SlackDeliveryError(RuntimeError):
    """Slack did not accept the message after the retries; the record is retried later."""


class SlackWebhook:
    """Posts through slack_sdk, which waits out 429s (Retry-After) and retries server errors."""

    def __init__(self, parameter_name: str, min_interval_seconds: float = 1.0):
        self._parameter = parameter_name
        self._interval = min_interval_seconds

    def post(self, message: dict[str, Any]) -> None:
        url = parameters.get_parameter(self._parameter, decrypt=True, max_age=WEBHOOK_CACHE_SECONDS)
        webhook = WebhookClient(
            url,
            timeout=10,
            retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=3),
                ServerErrorRetryHandler(max_retry_count=2),
                ConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )
        _pacer.wait_turn(self._interval)
        response = webhook.send_dict(message)
        if response.status_code != 200:
            raise SlackDeliveryError(f"Slack answered {response.status_code}: {response.body[:200]}")
