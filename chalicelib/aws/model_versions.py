"""The models table: every registered version of a model, and the approved-version pointer.

One item per version (sort key version#000001, ...) holds its metrics and
the promotion decision; the item with sort key "approved" points at the
version that inference uses. A rejection never moves the pointer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code

POINTER_KEY = "approved"


@dataclass(frozen=True)
class VersionRecord:
    model_name: str
    version: int
    status: str  # Approved | Rejected
    run_id: str
    model_package_arn: str
    metrics: dict[str, Any]
    decision: dict[str, Any]
    created_at: str
    config: dict[str, Any]  # the config version it was trained from (bucket, key, version_id)


class ModelVersions:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def put(self, record: VersionRecord) -> None:
        item = {
            "model_name": {"S": record.model_name},
            "version_key": {"S": _version_key(record.version)},
            "version": {"N": str(record.version)},
            "status": {"S": record.status},
            "run_id": {"S": record.run_id},
            "model_package_arn": {"S": record.model_package_arn},
            "metrics": {"S": json.dumps(record.metrics)},
            "decision": {"S": json.dumps(record.decision)},
            "created_at": {"S": record.created_at},
            "config": {"S": json.dumps(record.config)},
        }
        self._call("put_item", TableName=self._table, Item=item)

    def point_to(self, record: VersionRecord) -> bool:
        """Make `record` the approved version unless a newer one already is; False if not moved."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "model_name": {"S": record.model_name},
                    "version_key": {"S": POINTER_KEY},
                    "version": {"N": str(record.version)},
                    "run_id": {"S": record.run_id},
                    "model_package_arn": {"S": record.model_package_arn},
                    "updated_at": {"S": record.created_at},
                },
                ConditionExpression="attribute_not_exists(version) OR version < :version",
                ExpressionAttributeValues={":version": {"N": str(record.version)}},
            )
        except ClientError as err:
            if error_code(err) == "ConditionalCheckFailedException":
                return False
            raise AwsError(f"cannot move the approved pointer of {record.model_name}: {error_code(err)}") from err
        return True

    def approved(self, model_name: str) -> VersionRecord | None:
        pointer = self._get(model_name, POINTER_KEY)
        return self.version(model_name, int(pointer["version"]["N"])) if pointer else None

    def version(self, model_name: str, version: int) -> VersionRecord | None:
        item = self._get(model_name, _version_key(version))
        return _record(item) if item else None

    def versions(self, model_name: str) -> list[VersionRecord]:
        items = self._query(model_name)
        return [_record(i) for i in items if i["version_key"]["S"] != POINTER_KEY]

    def version_for_run(self, model_name: str, run_id: str) -> VersionRecord | None:
        return next((v for v in self.versions(model_name) if v.run_id == run_id), None)

    def model_names(self) -> list[str]:
        names: set[str] = set()
        for page in self._client.get_paginator("scan").paginate(TableName=self._table, ProjectionExpression="model_name"):
            names.update(item["model_name"]["S"] for item in page["Items"])
        return sorted(names)

    def _get(self, model_name: str, version_key: str) -> dict[str, Any] | None:
        response = self._call(
            "get_item", TableName=self._table,
            Key={"model_name": {"S": model_name}, "version_key": {"S": version_key}}, ConsistentRead=True,
        )
        return response.get("Item")

    def _query(self, model_name: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table, KeyConditionExpression="model_name = :name",
            ExpressionAttributeValues={":name": {"S": model_name}}, ConsistentRead=True,
        ):
            items.extend(page["Items"])
        return items

    def _call(self, operation: str, **request: Any) -> Any:
        try:
            return getattr(self._client, operation)(**request)
        except ClientError as err:
            raise AwsError(f"models table {self._table}: {operation} failed: {error_code(err)}") from err


def _version_key(version: int) -> str:
    return f"version#{version:06d}"


def _record(item: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        model_name=item["model_name"]["S"],
        version=int(item["version"]["N"]),
        status=item["status"]["S"],
        run_id=item["run_id"]["S"],
        model_package_arn=item["model_package_arn"]["S"],
        metrics=json.loads(item["metrics"]["S"]),
        decision=json.loads(item["decision"]["S"]),
        created_at=item["created_at"]["S"],
        config=json.loads(item.get("config", {}).get("S", "{}")),
    )
