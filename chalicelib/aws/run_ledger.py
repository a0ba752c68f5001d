"""The run ledger (the runs table): one item per run id, across all its executions.

The state machines write it (RecordRunStarted, MarkRunFailed, RecordRunSucceeded);
resuming adds an entry per resume, and the Lambda steps record their own status,
attempts, times and output (or an S3 pointer when it is large).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code
from chalicelib.resume_plan import Resume, RunRecord

MAX_INLINE_OUTPUT = 64 * 1024  # larger step outputs go to S3; a DynamoDB item holds 400 KB in all


class RunLedger:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def get(self, run_id: str) -> RunRecord | None:
        try:
            item = self._client.get_item(TableName=self._table, Key={"run_id": {"S": run_id}}, ConsistentRead=True).get("Item")
        except ClientError as err:
            raise AwsError(f"cannot read run {run_id} from {self._table}: {error_code(err)}") from err
        if not item or "workflow" not in item:
            return None
        text = {name: value["S"] for name, value in item.items() if "S" in value}
        return RunRecord(
            run_id=run_id,
            workflow=text["workflow"],
            status=text.get("status", ""),
            execution_arn=text.get("execution_arn", ""),
            failed_state=text.get("failed_state", ""),
            failed_execution_arn=text.get("failed_execution_arn", ""),
            resume_input=text.get("resume_input", ""),
            resume_count=int(item.get("resume_count", {}).get("N", "0")),
        )

    def begin_resume(self, plan: Resume, execution_arn: str, now_iso: str) -> bool:
        """Mark the run running again; False if another resume got there first."""
        entry = {
            "M": {
                "attempt": {"N": str(plan.attempt)},
                "execution_arn": {"S": execution_arn},
                "from_state": {"S": plan.from_state},
                "config_changed": {"BOOL": plan.config_changed},
                "config": {"S": json.dumps(plan.execution_input.get("config", {}), sort_keys=True)},
                "at": {"S": now_iso},
            }
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"run_id": {"S": plan.run_id}},
                UpdateExpression=(
                    "SET #status = :running, execution_arn = :arn, resume_count = :attempt, "
                    "resumes = list_append(if_not_exists(resumes, :none), :entry)"
                ),
                ConditionExpression="#status = :failed AND (attribute_not_exists(resume_count) OR resume_count = :previous)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": "RUNNING"}, ":failed": {"S": "FAILED"}, ":arn": {"S": execution_arn},
                    ":attempt": {"N": str(plan.attempt)}, ":previous": {"N": str(plan.attempt - 1)},
                    ":none": {"L": []}, ":entry": {"L": [entry]},
                },
            )
        except ClientError as err:
            if error_code(err) == "ConditionalCheckFailedException":
                return False
            raise AwsError(f"cannot mark run {plan.run_id} resumed in {self._table}: {error_code(err)}") from err
        return True

    def resume_not_started(self, run_id: str, reason: str) -> None:
        """The resumed execution could not start: the run is failed again, and says why."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"run_id": {"S": run_id}},
                UpdateExpression="SET #status = :failed, resume_error = :reason",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":failed": {"S": "FAILED"}, ":reason": {"S": reason[:1000]}},
            )
        except ClientError as err:
            raise AwsError(f"cannot mark run {run_id} failed in {self._table}: {error_code(err)}") from err

    def record_step(self, run_id: str, step: str, entry: dict[str, Any]) -> None:
        """Set steps.<step> (status, attempts, times, output or output_uri), creating the map if needed."""
        value = {"M": {name: _attribute(v) for name, v in entry.items()}}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"run_id": {"S": run_id}},
                UpdateExpression="SET steps = if_not_exists(steps, :empty)",
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
            self._client.update_item(
                TableName=self._table,
                Key={"run_id": {"S": run_id}},
                UpdateExpression="SET steps.#step = :entry",
                ExpressionAttributeNames={"#step": step},
                ExpressionAttributeValues={":entry": value},
            )
        except ClientError as err:
            raise AwsError(f"cannot record step {step} of run {run_id} in {self._table}: {error_code(err)}") from err

    def step(self, run_id: str, step: str) -> dict[str, Any]:
        """What the ledger holds for one step of a run ({} if nothing yet)."""
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"run_id": {"S": run_id}}, ProjectionExpression="steps.#step",
                ExpressionAttributeNames={"#step": step}, ConsistentRead=True,
            ).get("Item", {})
        except ClientError as err:
            raise AwsError(f"cannot read step {step} of run {run_id} from {self._table}: {error_code(err)}") from err
        entry = item.get("steps", {}).get("M", {}).get(step, {}).get("M", {})
        return {name: _value(attribute) for name, attribute in entry.items()}


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}


def _value(attribute: dict[str, Any]) -> Any:
    if "N" in attribute:
        return int(attribute["N"])
    if "BOOL" in attribute:
        return attribute["BOOL"]
    return attribute.get("S")
