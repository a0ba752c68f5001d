"""Step Functions: starting executions by deterministic name, and answering waiting tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, translated

# A token that is answered already, timed out, or belongs to a finished
# execution: a late or duplicate answer, which is not an error for the caller.
_STALE_TOKEN = {"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"}
# Step Functions limits: error names 256 characters, causes 32,768.
MAX_ERROR, MAX_CAUSE = 256, 32768
# How far Lambda's clock and Step Functions' may disagree; a repeat start within it is reported as a new start.
CLOCK_SKEW = timedelta(seconds=1)


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
        90 days, which makes the name our second line of deduplication. A start
        with the name and input of a running execution is answered with that
        execution, not refused: its start date, before this call, tells it apart.
        """
        requested_at = datetime.now(UTC)
        try:
            with translated(f"cannot start {name} on {state_machine_arn}"):
                response = self._client.start_execution(
                    stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
                )
        except AwsError as err:
            if err.code == "ExecutionAlreadyExists":
                return StartedExecution(execution_arn_for(state_machine_arn, name), already_existed=True)
            raise
        started_before = response["startDate"] < requested_at - CLOCK_SKEW
        return StartedExecution(response["executionArn"], already_existed=started_before)


class TaskCallbacks:
    def __init__(self, sfn_client: Any = None):
        self._client = sfn_client or client("stepfunctions")

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """False when the token was stale (the answer came too late or twice)."""
        return self._send("send_task_success", taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._send("send_task_failure", taskToken=token, error=error[:MAX_ERROR], cause=cause[:MAX_CAUSE])

    def _send(self, operation: str, **request: Any) -> bool:
        try:
            with translated("cannot answer a waiting workflow task", not_found=frozenset()):
                getattr(self._client, operation)(**request)
        except AwsError as err:
            if err.code in _STALE_TOKEN:
                return False
            raise
        return True


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
