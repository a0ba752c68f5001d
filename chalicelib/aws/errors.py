"""The project's own AWS errors, and the one place botocore's ClientError becomes one of them.

Every adapter wraps its calls in `translated("what it was doing")`, so an
error always says what failed (the object, the table, the execution) and
keeps AWS's error code for the callers that act on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

# Codes by which AWS says "no such thing", across the services we call.
NOT_FOUND_CODES = frozenset(
    {"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "ResourceNotFoundException", "ExecutionDoesNotExist",
     "ResourceNotFound"}  # the last: SageMaker's pipelines and executions
)
CONDITION_FAILED = "ConditionalCheckFailedException"
# Codes by which S3 says the caller may not read or write an object.
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})


class AwsError(RuntimeError):
    """An AWS call failed in a way the caller cannot fix by retrying at once."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code  # AWS's error code, e.g. "ExecutionAlreadyExists"


class NotFoundError(AwsError):
    """The object, table item or execution does not exist (any more)."""


class ConditionFailedError(AwsError):
    """A conditional write found the item in another state (someone else got there first)."""

    def __init__(self, message: str, code: str = "", item: dict[str, Any] | None = None):
        super().__init__(message, code)
        self.item = item  # the item as the write found it, when asked for (ReturnValuesOnConditionCheckFailure)


@contextmanager
def translated(action: str, not_found: frozenset[str] = NOT_FOUND_CODES) -> Iterator[None]:
    """Turn a ClientError inside the block into our error: `action` says what was being done."""
    try:
        yield
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        detail = f"{action}: {code}" + (f" ({error['Message']})" if error.get("Message") else "")
        if code in not_found:
            raise NotFoundError(detail, code) from err
        if code == CONDITION_FAILED:
            raise ConditionFailedError(detail, code, err.response.get("Item")) from err
        raise AwsError(detail, code) from err
