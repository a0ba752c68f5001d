"""The alert ledger on DynamoDB (moto in memory): windows, the runs a post named, and the one naming post on its way."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.aws.alert_ledger import AlertLedger


@pytest.fixture
def ledger():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="alerts", KeySchema=[{"AttributeName": "collapse_key", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "collapse_key", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        yield AlertLedger("alerts", dynamodb)


def test_a_new_window_counts_anew_and_keeps_the_runs_seen_and_named(ledger):
    ledger.record("k", "m-1", now=0, window_seconds=900, run="r-1")
    ledger.mark_delivered("k", "slack")
    ledger.mark_named("k", ["r-1"])
    ledger.record("k", "m-2", now=10, window_seconds=900, run="r-2")
    assert ledger.schedule_naming("k") and not ledger.schedule_naming("k")  # one naming post on its way at a time

    later = ledger.record("k", "m-3", now=1000, window_seconds=900, run="r-3")  # the window ended

    assert later.message_ids == {"m-3"} and later.delivered == frozenset() and later.window_ends == 1900
    assert later.runs == {"r-1", "r-2", "r-3"} and later.named == {"r-1"}
    taken = ledger.take_naming("k")
    assert sorted(taken.runs - taken.named) == ["r-2", "r-3"] and ledger.schedule_naming("k")
    ledger.cancel_naming("k")
    assert ledger.schedule_naming("k")


def test_of_two_consumers_that_saw_the_window_end_one_opens_the_next_and_the_others_message_joins_it(ledger):
    ledger.record("k", "m-1", now=0, window_seconds=900)
    client = ledger._client
    ended = client.get_item(TableName="alerts", Key={"collapse_key": {"S": "k"}})["Item"]  # its window ended at 900

    class MetTheEndedWindowFirst:
        """The second consumer's write met the ended window before the first consumer opened the next."""

        def __init__(self):
            self.met = False

        def update_item(self, **request):
            if "window_ends > :now" in request.get("ConditionExpression", "") and not self.met:
                self.met = True
                error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "window ended"}, "Item": ended}
                raise ClientError(error, "UpdateItem")
            return client.update_item(**request)

        def __getattr__(self, name):
            return getattr(client, name)

    ledger.record("k", "m-2", now=1000, window_seconds=900)  # the first opens the new window, posts, and says so
    ledger.mark_delivered("k", "slack")
    late = AlertLedger("alerts", MetTheEndedWindowFirst()).record("k", "m-3", now=1001, window_seconds=900)

    assert late.message_ids == {"m-2", "m-3"} and late.delivered == {"slack"}  # not wiped: the second does not post again
    assert late.window_ends == 1900
