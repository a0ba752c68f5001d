"""The models table: every registered version of a model, and the approved-version pointer.

One item per version (sort key version#000001, ...) holds its metrics and
the promotion decision; the item with sort key "approved" points at the
version that inference uses. A rejection never moves the pointer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.dynamo_items import from_item, to_attribute, to_item
from chalicelib.aws.errors import ConditionFailedError, translated

POINTER_KEY = "approved"
DEPLOYMENT_KEY = "endpoint"  # the item saying which version the model's endpoint serves, and how


@dataclass(frozen=True)
class VersionRecord:
    model_name: str
    version: int
    status: str  # Approved | Rejected | PendingManualApproval
    run_id: str
    model_package_arn: str
    metrics: dict[str, Any]
    decision: dict[str, Any]
    created_at: str
    config: dict[str, Any]  # the config version it was trained from (bucket, key, version_id)
    code: dict[str, Any] = field(default_factory=dict)  # what trained it: images, code bundle URI, entry point, hyperparameters
    task: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)  # who changed its status, when and why
    artifact: dict[str, str] = field(default_factory=dict)  # its model.tar.gz as registered: uri, version_id, sha256
    lineage: dict[str, Any] = field(default_factory=dict)  # what it came from, written once (chalicelib/training/lineage.py)


class ModelVersions:
    def __init__(self, table_name: str, dynamodb_client: Any = None):
        self._table = table_name
        self._client = dynamodb_client or client("dynamodb")

    def put(self, record: VersionRecord) -> None:
        item = to_item({**asdict(record), "version_key": _version_key(record.version)})
        with translated(f"cannot write {record.model_name} v{record.version} to {self._table}"):
            self._client.put_item(TableName=self._table, Item=item)

    def point_to(self, record: VersionRecord) -> bool:
        """Make `record` the approved version unless a newer one already is; False if not moved."""
        return self._put_pointer(record, "attribute_not_exists(version) OR version < :version",
                                 {":version": to_attribute(record.version)})

    def point_to_if(self, record: VersionRecord, judged_against: int | None) -> bool:
        """Make `record` the approved version only while the pointer is where its judgement read it (`judged_against`,
        None for no approved version); False when another version got there first, and `record` must be judged again."""
        if judged_against is None:
            return self._put_pointer(record, "attribute_not_exists(version)", {})
        return self._put_pointer(record, "version = :judged", {":judged": to_attribute(judged_against)})

    def _put_pointer(self, record: VersionRecord, condition: str, values: dict[str, Any]) -> bool:
        pointer = {
            "model_name": record.model_name, "version_key": POINTER_KEY, "version": record.version,
            "run_id": record.run_id, "model_package_arn": record.model_package_arn, "updated_at": record.created_at,
        }
        try:
            with translated(f"cannot move the approved pointer of {record.model_name}"):
                self._client.put_item(TableName=self._table, Item=to_item(pointer), ConditionExpression=condition,
                                      **({"ExpressionAttributeValues": values} if values else {}))
        except ConditionFailedError:
            return False
        return True

    def set_status(self, model_name: str, version: int, expected: str, status: str, entry: dict[str, Any]) -> bool:
        """Change a version's status from `expected`, adding `entry` to its history; False if it was not `expected`
        (someone else changed it first: a duplicate event, or two people at once)."""
        try:
            with translated(f"cannot set {model_name} v{version} to {status}"):
                self._client.update_item(
                    TableName=self._table, Key=to_item({"model_name": model_name, "version_key": _version_key(version)}),
                    UpdateExpression="SET #status = :status, history = list_append(if_not_exists(history, :none), :entry)",
                    ConditionExpression="#status = :expected",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":status": to_attribute(status), ":expected": to_attribute(expected),
                                               ":entry": to_attribute([entry]), ":none": to_attribute([])},
                )
        except ConditionFailedError:
            return False
        return True

    def set_pointer(self, model_name: str, record: VersionRecord | None, updated_at: str) -> None:
        """Point inference at `record`, older or newer (a person decided), or at nothing."""
        key = {"model_name": model_name, "version_key": POINTER_KEY}
        with translated(f"cannot move the approved pointer of {model_name}"):
            if record is None:
                self._client.delete_item(TableName=self._table, Key=to_item(key))
                return
            self._client.put_item(TableName=self._table, Item=to_item({
                **key, "version": record.version, "run_id": record.run_id, "model_package_arn": record.model_package_arn,
                "updated_at": updated_at,
            }))

    def record_deployment(self, model_name: str, deployment: dict[str, Any]) -> None:
        """What the model's endpoint serves now (chalicelib/training/deploy.py): written when a deployment is in service."""
        with translated(f"cannot record the endpoint of {model_name}"):
            self._client.put_item(TableName=self._table, Item=to_item(
                {**deployment, "model_name": model_name, "version_key": DEPLOYMENT_KEY}))

    def deployment(self, model_name: str) -> dict[str, Any] | None:
        item = self._get(model_name, DEPLOYMENT_KEY)
        return {k: v for k, v in item.items() if k not in ("model_name", "version_key")} if item else None

    def approved(self, model_name: str) -> VersionRecord | None:
        pointer = self._get(model_name, POINTER_KEY)
        return self.version(model_name, int(pointer["version"])) if pointer else None

    def version(self, model_name: str, version: int) -> VersionRecord | None:
        item = self._get(model_name, _version_key(version))
        return _record(item) if item else None

    def versions(self, model_name: str) -> list[VersionRecord]:
        items: list[dict[str, Any]] = []
        with translated(f"cannot read the versions of {model_name} from {self._table}"):
            for page in self._client.get_paginator("query").paginate(
                TableName=self._table, KeyConditionExpression="model_name = :name",
                ExpressionAttributeValues={":name": to_attribute(model_name)}, ConsistentRead=True,
            ):
                items.extend(from_item(i) for i in page["Items"])
        return [_record(i) for i in items if i["version_key"] not in (POINTER_KEY, DEPLOYMENT_KEY)]

    def version_for_run(self, model_name: str, run_id: str) -> VersionRecord | None:
        return next((v for v in self.versions(model_name) if v.run_id == run_id), None)

    def model_names(self) -> list[str]:
        names: set[str] = set()
        with translated(f"cannot list the models in {self._table}"):
            for page in self._client.get_paginator("scan").paginate(TableName=self._table, ProjectionExpression="model_name"):
                names.update(item["model_name"]["S"] for item in page["Items"])
        return sorted(names)

    def every_model(self) -> dict[str, tuple[list[VersionRecord], int | None]]:
        """Each model's versions (in version order) and its approved version, from one Scan: a page listing every
        model reads the table once, not once per model."""
        items: list[dict[str, Any]] = []
        with translated(f"cannot list the models in {self._table}"):
            for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
                items.extend(from_item(i) for i in page["Items"])
        models: dict[str, tuple[list[VersionRecord], int | None]] = {}
        for item in sorted(items, key=lambda i: i["version_key"]):  # approved < endpoint < version#000001 < ...
            records, approved = models.get(item["model_name"], ([], None))
            if item["version_key"] == POINTER_KEY:
                approved = int(item["version"])
            elif item["version_key"] != DEPLOYMENT_KEY:
                records.append(_record(item))
            models[item["model_name"]] = (records, approved)
        return {name: found for name, found in sorted(models.items()) if found[0]}

    def _get(self, model_name: str, version_key: str) -> dict[str, Any] | None:
        with translated(f"cannot read {model_name} {version_key} from {self._table}"):
            item = self._client.get_item(
                TableName=self._table, Key=to_item({"model_name": model_name, "version_key": version_key}),
                ConsistentRead=True,
            ).get("Item")
        return from_item(item) if item else None


def _version_key(version: int) -> str:
    return f"version#{version:06d}"


def _record(item: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        model_name=item["model_name"], version=int(item["version"]), status=item["status"], run_id=item["run_id"],
        model_package_arn=item["model_package_arn"], metrics=item["metrics"], decision=item["decision"],
        created_at=item["created_at"], config=item.get("config", {}), code=item.get("code", {}), task=item.get("task", ""),
        history=item.get("history", []), artifact=item.get("artifact", {}), lineage=item.get("lineage", {}),
    )
