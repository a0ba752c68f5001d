"""Starting workflow executions by deterministic name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


@dataclass(frozen=True)
class StartedExecution:
    execution_arn: str
    already_existed: bool


class Workflows:
    def __init__(self, sfn_client: Any = None):
        self._client = sfn_client or client("stepfunctions")

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> StartedExecution:
        """Start `name` once: a name already used means this run was already started.

        Step Functions keeps a standard workflow's execution names unique for
        90 days, which makes the name our second line of deduplication.
        """
        try:
            response = self._client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as err:
            if error_code(err) == "ExecutionAlreadyExists":
                return StartedExecution(execution_arn_for(state_machine_arn, name), already_existed=True)
            raise AwsError(f"cannot start {name} on {state_machine_arn}: {error_code(err)}") from err
        return StartedExecution(response["executionArn"], already_existed=False)


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
