"""The project's own AWS errors: adapters turn botocore's ClientError into these."""

from __future__ import annotations

from botocore.exceptions import ClientError


class AwsError(RuntimeError):
    """An AWS call failed in a way the caller cannot fix by retrying at once."""


class NotFoundError(AwsError):
    """The object, table item or execution does not exist (any more)."""


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
