"""Clients for the stack a running `mlrelay local up` recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from mlrelay.cli.output import fail
from mlrelay.local.stack import StackInfo
from mlrelay.local.state_file import NoLocalStackError, read_state


def connect() -> tuple[StackInfo, Callable[[str], Any]]:
    try:
        info = read_state()
    except NoLocalStackError as err:
        fail(str(err))
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region
    )
    return info, lambda service: session.client(service, endpoint_url=info.endpoint)
