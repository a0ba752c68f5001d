"""S3 reads, slowed on request (the fault plan's slow_reads), and read in process by the local warehouse.

GetBucketNotificationConfiguration reports a bucket's EventBridge setting, as AWS does (moto stores it, and
sends the events, but leaves it out of the answer: `mlrelay doctor` reads it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import unquote

from moto.s3.responses import S3Response


@contextmanager
def patched(faults: Any) -> Iterator[None]:
    """`faults` is the stack's mlrelay.local.faults.FaultPlan."""
    answer = S3Response.get_object

    def get_object(self: S3Response) -> Any:
        delay = faults.read_delay(self.bucket_name, _key_name(self))
        if delay:
            time.sleep(delay)
        return answer(self)

    notification = S3Response.get_bucket_notification

    def get_bucket_notification(self: S3Response) -> Any:
        rendered = notification(self)
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return rendered
        # the XML moto renders, with AWS's empty <EventBridgeConfiguration/> added
        status, headers, body = rendered
        text = body.decode() if isinstance(body, bytes) else str(body)
        if "EventBridgeConfiguration" in text:
            return rendered
        empty = re.sub(r"<NotificationConfiguration([^>]*)/>", r"<NotificationConfiguration\1></NotificationConfiguration>", text)
        closing = "</NotificationConfiguration>"
        return status, headers, empty.replace(closing, f"<EventBridgeConfiguration></EventBridgeConfiguration>{closing}")

    with (
        mock.patch.object(S3Response, "get_object", get_object),
        mock.patch.object(S3Response, "get_bucket_notification", get_bucket_notification),
    ):
        yield


def object_reader(account_id: str) -> Callable[[str, str], bytes]:
    """An object's bytes straight from moto's backend: the local warehouse's COPY runs in this process, as
    Redshift's runs inside AWS, so its reads need not go through HTTP (4x faster for a load's parts)."""
    from moto.s3.models import s3_backends

    def read(bucket: str, key: str) -> bytes:
        found = s3_backends[account_id]["aws"].get_object(bucket, key)
        if found is None:
            raise KeyError(f"s3://{bucket}/{key}")
        return bytes(found.value)

    return read


def _key_name(response: S3Response) -> str:
    # Path-style requests (the embedded stack's) carry the bucket as the path's first part.
    path = unquote(response.path.lstrip("/"))
    return path.removeprefix(f"{response.bucket_name}/")
