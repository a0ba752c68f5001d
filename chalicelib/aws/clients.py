"""boto3 clients, created on first use and shared.

Never at import time: a client made at import binds to whatever endpoint and
credentials exist then, which defeats the emulator and slows cold starts.
AWS_ENDPOINT_URL (set by the embedded stack) points every client at moto.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset() -> None:
    """Forget cached clients (the embedded stack calls this when its endpoint changes)."""
    client.cache_clear()
