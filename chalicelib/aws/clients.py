"""boto3 clients, created on first use and shared.

Never at import time: a client made at import binds to whatever endpoint and
credentials exist then, which defeats the emulator and slows cold starts.
AWS_ENDPOINT_URL (set by the embedded stack) points every client at moto.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
_cache_clears: list[Callable[[], None]] = []
F = TypeVar("F", bound=Callable[..., Any])


def cached(function: F) -> F:
    """Memoise something built on clients; reset() forgets it along with the clients."""
    memoised = lru_cache(maxsize=None)(function)
    _cache_clears.append(memoised.cache_clear)
    return memoised  # type: ignore[return-value]


@cached
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset() -> None:
    """Forget cached clients (the embedded stack calls this when its endpoint changes)."""
    for clear in _cache_clears:
        clear()
