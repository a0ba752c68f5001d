"""S3 reads, slowed on request (the fault plan's slow_reads): moto's S3 itself needs no change."""

from __future__ import annotations

import time
from collections.abc import Iterator
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

    with mock.patch.object(S3Response, "get_object", get_object):
        yield


def _key_name(response: S3Response) -> str:
    # Path-style requests (the embedded stack's) carry the bucket as the path's first part.
    path = unquote(response.path.lstrip("/"))
    return path.removeprefix(f"{response.bucket_name}/")
