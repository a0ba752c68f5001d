"""CloudWatch alarms: an update keeps the alarm's state, as CloudWatch's PutMetricAlarm does.

moto 5.2.5 makes a new alarm object on every PutMetricAlarm, so updating an alarm resets it to OK: a deploy that
puts its endpoint's rollback alarm again (chalicelib/aws/endpoints.py) would clear an alarm that is firing, and the
update it guards would go through where SageMaker rolls it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.cloudwatch.models import CloudWatchBackend

_STATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")


@contextmanager
def patched() -> Iterator[None]:
    original = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        before = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if before is not None:
            for attribute in _STATE:
                setattr(alarm, attribute, getattr(before, attribute))
        return alarm

    with mock.patch.object(CloudWatchBackend, "put_metric_alarm", put_metric_alarm):
        yield
