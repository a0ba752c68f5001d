"""Real boto3 clients answered by botocore's Stubber, and the CloudFormation shapes the deploy tests queue.

A test queues exactly the calls it expects, in order per client; a call nobody queued fails the test
(Stubber raises), and `verify()` fails on a queued call that never came. Nothing reaches the network.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber

ACCOUNT = "123456789012"
STAGE = "test"
NAME = f"mlrelay-{STAGE}"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{NAME}/11111111-2222-3333-4444-555555555555"
CHANGE_SET_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:changeSet/{NAME}-abc/66666666"
WHEN = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
_event_ids = itertools.count(1)


class StubbedSession:
    """What deploy() and destroy() use of a boto3 session: clients, the region and its partition."""

    def __init__(self, region: str = "us-east-1"):
        self.region_name = region
        self._session = boto3.session.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        self._stubs: dict[str, tuple[Any, Stubber]] = {}

    def client(self, service: str) -> Any:
        if service not in self._stubs:
            client = boto3.client(service, region_name=self.region_name, aws_access_key_id="x", aws_secret_access_key="x")
            stubber = Stubber(client)
            stubber.activate()
            self._stubs[service] = (client, stubber)
        return self._stubs[service][0]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self._stubs[service][1]

    def get_partition_for_region(self, region: str) -> str:
        return self._session.get_partition_for_region(region)

    def verify(self) -> None:
        for _, stubber in self._stubs.values():
            stubber.assert_no_pending_responses()


class StartsWith(str):
    """An expected parameter that only has to start with this (Stubber compares with !=)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(str(self))

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


def stack(status: str, reason: str = "", outputs: dict[str, str] | None = None, parameters: dict[str, str] | None = None) -> dict:
    described: dict[str, Any] = {"StackName": NAME, "StackId": STACK_ID, "CreationTime": WHEN, "StackStatus": status}
    if reason:
        described["StackStatusReason"] = reason
    if outputs:
        described["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    if parameters:
        described["Parameters"] = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    return described


def event(logical_id: str, status: str, reason: str = "", kind: str = "AWS::Serverless::Function", physical_id: str = "") -> dict:
    found = {"StackId": STACK_ID, "EventId": f"e{next(_event_ids)}", "StackName": NAME, "Timestamp": WHEN,
             "LogicalResourceId": logical_id, "ResourceType": kind, "ResourceStatus": status}
    if reason:
        found["ResourceStatusReason"] = reason
    if physical_id:
        found["PhysicalResourceId"] = physical_id
    return found


def own(status: str, reason: str = "") -> dict:
    """An event of the stack itself."""
    return event(NAME, status, reason, kind="AWS::CloudFormation::Stack")


def expect_no_stack(aws: StubbedSession) -> None:
    aws.stub("cloudformation").add_client_error(
        "describe_stacks", service_error_code="ValidationError", service_message=f"Stack with id {NAME} does not exist",
        http_status_code=400, expected_params={"StackName": NAME},
    )


def expect_stack(aws: StubbedSession, status: str, by: str = NAME, **details: Any) -> None:
    """describe_stacks by name (or by the stack id, as calls made after the first one do)."""
    aws.stub("cloudformation").add_response("describe_stacks", {"Stacks": [stack(status, **details)]}, {"StackName": by})


def expect_caller(aws: StubbedSession, account: str = ACCOUNT) -> None:
    aws.stub("sts").add_response("get_caller_identity", {"UserId": "AIDX", "Account": account, "Arn": f"arn:aws:iam::{account}:user/ops"})


def expect_events(aws: StubbedSession, events: list[dict], stack_name: str = STACK_ID, token: str | None = None,
                  next_token: str | None = None) -> None:
    """One page of describe_stack_events, newest first."""
    response: dict[str, Any] = {"StackEvents": events}
    if next_token:
        response["NextToken"] = next_token
    params = {"StackName": stack_name, **({"NextToken": token} if token else {})}
    aws.stub("cloudformation").add_response("describe_stack_events", response, params)


def expect_followed(aws: StubbedSession, polls: list[tuple[str, list[dict]]], outputs: dict[str, str] | None = None) -> None:
    """follow(): per poll the stack's status, then the first page of its events (newest first)."""
    cfn = aws.stub("cloudformation")
    for i, (status, events) in enumerate(polls):
        last = i == len(polls) - 1
        cfn.add_response("describe_stacks", {"Stacks": [stack(status, outputs=outputs if last else None)]}, {"StackName": STACK_ID})
        cfn.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})
