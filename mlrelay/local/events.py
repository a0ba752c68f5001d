"""Events as AWS sends them, for redelivering an S3 notification on purpose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def s3_object_created(
    bucket: str, key: str, version_id: str | None, etag: str, size: int, account: str, region: str,
    time: datetime | None = None,
) -> dict[str, Any]:
    """An EventBridge 'Object Created' event in the shape S3 sends."""
    moment = (time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": moment,
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag.strip('"'), "version-id": version_id, "sequencer": "0"},
            "request-id": "LOCAL0000000000",
            "requester": account,
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject",
        },
    }
