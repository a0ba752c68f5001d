"""The two AWS event shapes the triggers parse, as small pydantic models.

Powertools' parser models package imports every event model it knows when any
one is imported: a quarter of a function's cold start. These follow its field
names, aliases and required fields for what mlrelay reads (a test parses the
sample events with both and compares).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventBridgeEvent(BaseModel):
    """The EventBridge envelope; `detail` is the service's own document."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    detail: Any
    replay_name: str | None = Field(None, alias="replay-name")


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str
    size: int | None = None
    etag: str
    version_id: str | None = Field(None, alias="version-id")
    sequencer: str | None = None


class S3ObjectDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str
    bucket: S3Bucket
    object: S3Object
    request_id: str = Field(alias="request-id")
    requester: str
    source_ip_address: str | None = Field(None, alias="source-ip-address")
    reason: str | None = None


class S3ObjectCreatedEvent(EventBridgeEvent):
    """S3's "Object Created" event, as EventBridge delivers it."""

    detail: S3ObjectDetail
