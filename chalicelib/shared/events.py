"""Parsing an asynchronous trigger's event: one that cannot be parsed is reported once, not retried.

Lambda retries a failed asynchronous invocation twice, then sends it to the on-failure destination. An event
that does not parse fails the same way every time, so retrying it only triples the alerts: it goes straight
to the failures queue as `event_rejected`, and the invocation ends normally.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.shared.messages import EventRejected
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import HasFailures

M = TypeVar("M", bound=BaseModel)
EVENT_EXCERPT_CHARS = 2000


def parsed_or_reported(model: type[M], event: Any, function: str, ports: HasFailures) -> M | None:
    try:
        return model.model_validate(event)
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in err.errors()[:20]]
        logger.error("event rejected: it cannot be parsed, so it is not retried", extra={"function": function, "problems": problems})
        ports.failures.send(EventRejected(
            function=function, expected=model.__name__, problems=problems,
            event_excerpt=json.dumps(event, default=str)[:EVENT_EXCERPT_CHARS], occurred_at=datetime.now(UTC),
        ))
        return None
