"""S3 access for config objects and the reports written beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, NotFoundError, error_code

_MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NoSuchBucket"}


@dataclass(frozen=True)
class ObjectContent:
    data: bytes  # at most max_bytes: the rest is never read
    size: int  # the object's full size


class S3Objects:
    def __init__(self, s3_client: Any = None):
        self._client = s3_client or client("s3")

    def read(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> ObjectContent:
        """Read one object version; a body over max_bytes is cut, not loaded."""
        request = {"Bucket": bucket, "Key": key}
        if version_id and version_id != "null":
            request["VersionId"] = version_id
        try:
            response = self._client.get_object(**request)
        except ClientError as err:
            if error_code(err) in _MISSING:
                raise NotFoundError(f"s3://{bucket}/{key} (version {version_id}) no longer exists") from err
            raise AwsError(f"cannot read s3://{bucket}/{key}: {error_code(err)}") from err
        body = response["Body"]
        try:
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        return ObjectContent(data=data[:max_bytes], size=int(response.get("ContentLength", len(data))))

    def put_json(self, bucket: str, key: str, document: dict[str, Any]) -> None:
        try:
            self._client.put_object(
                Bucket=bucket,
                Key=key,
                Body=json.dumps(document, indent=2, default=str).encode(),
                ContentType="application/json",
            )
        except ClientError as err:
            raise AwsError(f"cannot write s3://{bucket}/{key}: {error_code(err)}") from err
