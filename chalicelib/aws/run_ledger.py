"""The run ledger (the runs table): one item per run id, across all its executions.

The state machines write it (RecordRunStarted, MarkRunFailed, RecordRunSucceeded);
resuming adds an entry per resume, and the Lambda steps record their own status,
attempts, times and output (or an S3 pointer when it is large).
"""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_attribute, from_item, to_attribute, to_item
from chalicelib.aws.errors import ConditionFailedError, translated
from chalicelib.shared.runs import ResumeEntry, RunRecord

MAX_INLINE_OUTPUT = 64 * 1024  # larger step outputs go to S3; a DynamoDB item holds 400 KB in all


class RunLedger:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def get(self, run_id: str) -> RunRecord | None:
        with translated(f"cannot read run {run_id} from {self._table}"):
            item = self._client.get_item(TableName=self._table, Key=_key(run_id), ConsistentRead=True).get("Item")
        values = from_item(item or {})
        if "workflow" not in values:
            return None
        return RunRecord(
            run_id=run_id,
            workflow=values["workflow"],
            status=values.get("status", ""),
            execution_arn=values.get("execution_arn", ""),
            failed_state=values.get("failed_state", ""),
            failed_execution_arn=values.get("failed_execution_arn", ""),
            resume_input=values.get("resume_input", ""),
            resume_count=int(values.get("resume_count", 0)),
        )

    def begin_resume(self, entry: ResumeEntry) -> bool:
        """Mark the run running again, forgetting the steps' outputs that no longer hold; False if another resume got
        there first."""
        forget = " REMOVE " + ", ".join(f"steps.#forget{i}" for i in range(len(entry.forget_steps))) if entry.forget_steps else ""
        try:
            with translated(f"cannot mark run {entry.run_id} resumed in {self._table}"):
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(entry.run_id),
                    UpdateExpression=(
                        "SET #status = :running, execution_arn = :arn, resume_count = :attempt, "
                        "resumes = list_append(if_not_exists(resumes, :none), :entry)" + forget
                    ),
                    ConditionExpression="#status IN (:failed, :interrupted) "
                    "AND (attribute_not_exists(resume_count) OR resume_count = :previous)",
                    ExpressionAttributeNames={"#status": "status", **{f"#forget{i}": s for i, s in enumerate(entry.forget_steps)}},
                    ExpressionAttributeValues=to_item({
                        ":running": "RUNNING", ":failed": "FAILED", ":interrupted": "INTERRUPTED", ":arn": entry.execution_arn,
                        ":attempt": entry.attempt, ":previous": entry.attempt - 1, ":none": [],
                        ":entry": [{
                            "attempt": entry.attempt, "execution_arn": entry.execution_arn,
                            "from_state": entry.from_state, "config_changed": entry.config_changed,
                            "config": entry.config_json, "at": entry.at, "inputs_changed": list(entry.inputs_changed),
                        }],
                    }),
                )
        except ConditionFailedError:
            return False
        return True

    def resume_not_started(self, run_id: str, reason: str) -> None:
        """The resumed execution could not start: the run is failed again, and says why."""
        with translated(f"cannot mark run {run_id} failed in {self._table}"):
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id),
                UpdateExpression="SET #status = :failed, resume_error = :reason",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({":failed": "FAILED", ":reason": reason[:1000]}),
            )

    def record_step(self, run_id: str, step: str, entry: dict[str, Any]) -> None:
        """Set steps.<step> (status, attempts, times, output or output_uri), creating the map if needed."""
        # DynamoDB cannot set a key inside a map that may not exist yet in one call: make the map first.
        with translated(f"cannot record step {step} of run {run_id} in {self._table}"):
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id),
                UpdateExpression="SET steps = if_not_exists(steps, :empty)",
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
            self._client.update_item(
                TableName=self._table,
                Key=_key(run_id),
                UpdateExpression="SET steps.#step = :entry",
                ExpressionAttributeNames={"#step": step},
                ExpressionAttributeValues={":entry": to_attribute(entry)},
            )

    def step(self, run_id: str, step: str) -> dict[str, Any]:
        """What the ledger holds for one step of a run ({} if nothing yet)."""
        with translated(f"cannot read step {step} of run {run_id} from {self._table}"):
            item = self._client.get_item(
                TableName=self._table, Key=_key(run_id), ProjectionExpression="steps.#step",
                ExpressionAttributeNames={"#step": step}, ConsistentRead=True,
            ).get("Item", {})
        entry = item.get("steps", {}).get("M", {}).get(step)
        return from_attribute(entry) if entry else {}


def _key(run_id: str) -> dict[str, Any]:
    return {"run_id": {"S": run_id}}
