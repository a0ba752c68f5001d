"""In-memory fakes with the adapters' interfaces (chalicelib/aws/), and ports made of them.

They keep state the way the real services do, so a use case run on them is
checked by what ended up in the table, the bucket or the queue.
tests/functional/test_adapter_contracts.py runs the same assertions against
a fake and the moto-backed adapter, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.aws.callbacks import OutcomeConflictError
from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.aws.s3 import Fingerprint, ObjectContent, listing_identity, tar_gz_holds_files
from chalicelib.aws.sagemaker import PipelineDescription, PipelineOutcome
from chalicelib.aws.stepfunctions import StartedExecution, execution_arn_for
from chalicelib.shared.endpoint_states import EndpointBusyError, EndpointState
from chalicelib.shared.naming import model_role_name, model_role_path
from chalicelib.shared.pinning import (
    MANIFEST,
    FileVersion,
    PinnedInput,
    check_pinnable,
    copy_key,
    header_digest,
    pin_base,
    pinned_uri,
)
from chalicelib.shared.ports import Ports
from chalicelib.shared.runs import ResumeEntry, RunRecord

ACCOUNT = "123456789012"


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # S3's ETag of a single-part upload


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], list[bytes]] = {}  # (bucket, key) -> versions, oldest first
        self.ranged_reads: list[tuple[str, str, int]] = []

    def put(self, bucket: str, key: str, data: bytes) -> str:
        versions = self.objects.setdefault((bucket, key), [])
        versions.append(data)
        return f"v{len(versions)}"

    def read(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> ObjectContent:
        versions = self.objects.get((bucket, key), [])
        index = int(version_id[1:]) - 1 if version_id and version_id != "null" else len(versions) - 1
        if not versions or not 0 <= index < len(versions):
            raise NotFoundError(f"s3://{bucket}/{key} (version {version_id}) no longer exists", "NoSuchKey")
        data = versions[index]
        return ObjectContent(data[:max_bytes], len(data))

    def read_json(self, bucket: str, key: str, max_bytes: int) -> Any:
        return json.loads(self.read(bucket, key, None, max_bytes).data)

    def version_of(self, uri: str) -> str:
        return self.fingerprint(uri).version_id

    def fingerprint(self, uri: str) -> Fingerprint:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        versions = self.objects.get((bucket, key), [])
        if not versions:
            raise NotFoundError(f"cannot read {uri}: NoSuchKey", "NoSuchKey")
        return Fingerprint(uri, f"v{len(versions)}", hashlib.sha256(versions[-1]).hexdigest())

    def exists(self, uri: str) -> bool:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bool(self.objects.get((bucket, key)))

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self.put(bucket, key, json.dumps(document, default=str).encode())

    def first_bytes(self, bucket: str, key: str, max_bytes: int) -> ObjectContent:
        self.ranged_reads.append((bucket, key, max_bytes))
        return self.read(bucket, key, None, max_bytes)

    def first_table_file(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> str | None:
        if self.objects.get((bucket, key_or_prefix)):
            return key_or_prefix
        under = sorted(k for (b, k), versions in self.objects.items()
                       if b == bucket and k.startswith(key_or_prefix) and k.lower().endswith(suffix) and versions[-1])
        return under[0] if under else None


    def archive_holds_files(self, uri: str, max_bytes: int = 1024 * 1024) -> bool:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        content = self.read(bucket, key, None, max_bytes)
        return content.size > max_bytes or tar_gz_holds_files(content.data)

    def identity(self, uri: str) -> str:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if key and not key.endswith("/") and self.objects.get((bucket, key)):
            return f"etag:{_etag(self.objects[(bucket, key)][-1])}"
        return listing_identity(sorted(f'{k} "{_etag(v[-1])}"' for (b, k), v in self.objects.items()
                                       if b == bucket and k.startswith(key) and k.lower().endswith(".csv") and v))

    def file_versions(self, uri: str, suffix: str = ".csv") -> list[FileVersion]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        keys = [key] if key and not key.endswith("/") and self.objects.get((bucket, key)) else sorted(
            k for (b, k), v in self.objects.items() if b == bucket and k.startswith(key) and k.lower().endswith(suffix) and v)
        return [FileVersion(k, f"v{len(self.objects[(bucket, k)])}", _etag(self.objects[(bucket, k)][-1]),
                            len(self.objects[(bucket, k)][-1])) for k in keys]

    def pin(self, uri: str, bucket: str, kind: str) -> PinnedInput:
        source_bucket, _, source_key = uri.removeprefix("s3://").partition("/")
        files = self.file_versions(uri)
        if not files:
            raise NotFoundError(f"{uri} holds no file to read: upload the table there, or fix the config's URI", "NoSuchKey")
        base = pin_base(kind, uri, self.identity(uri))
        if self.objects.get((bucket, f"{base}/{MANIFEST}")):
            return PinnedInput.from_manifest(self.read_json(bucket, f"{base}/{MANIFEST}", 1 << 24))
        check_pinnable(uri, files)
        for f in files:
            self.put(bucket, copy_key(base, kind, f.key, source_key), self.objects[(source_bucket, f.key)][-1])
        first = next((self.objects[(source_bucket, f.key)][-1] for f in files if f.size), b"")
        pinned = PinnedInput(uri, pinned_uri(bucket, base, kind, files, source_key), self.identity(uri), tuple(files),
                             header_digest(first) if kind == "tables" and first else "",
                             hashlib.sha256(first).hexdigest() if kind == "code" else "")
        self.put_json(bucket, f"{base}/{MANIFEST}", pinned.manifest())
        return pinned

    def copy(self, source_uri: str, target_uri: str) -> None:
        source_bucket, _, source_key = source_uri.removeprefix("s3://").partition("/")
        bucket, _, key = target_uri.removeprefix("s3://").partition("/")
        if not self.objects.get((source_bucket, source_key)):
            raise NotFoundError(f"cannot copy {source_uri}: NoSuchKey", "NoSuchKey")
        self.put(bucket, key, self.objects[(source_bucket, source_key)][-1])

    def table_lines(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> Iterator[tuple[str, str]]:
        keys = [key_or_prefix] if self.objects.get((bucket, key_or_prefix)) else sorted(
            k for (b, k) in self.objects if b == bucket and k.startswith(key_or_prefix) and k.lower().endswith(suffix))
        for key in keys:
            for line in self.objects[(bucket, key)][-1].decode().splitlines():
                yield key, line


class FakeModelVersions:
    def __init__(self) -> None:
        self.records: dict[tuple[str, int], VersionRecord] = {}
        self.pointers: dict[str, int] = {}
        self.deployments: dict[str, dict[str, Any]] = {}

    def put(self, record: VersionRecord) -> None:
        self.records[(record.model_name, record.version)] = copy.deepcopy(record)

    def point_to(self, record: VersionRecord) -> bool:
        if self.pointers.get(record.model_name, 0) >= record.version:
            return False
        self.pointers[record.model_name] = record.version
        return True

    def point_to_if(self, record: VersionRecord, judged_against: int | None) -> bool:
        if self.pointers.get(record.model_name) != judged_against:
            return False
        self.pointers[record.model_name] = record.version
        return True

    def set_status(self, model_name: str, version: int, expected: str, status: str, entry: dict[str, Any]) -> bool:
        record = self.records.get((model_name, version))
        if record is None or record.status != expected:
            return False
        self.records[(model_name, version)] = replace(record, status=status, history=[*record.history, entry])
        return True

    def set_pointer(self, model_name: str, record: VersionRecord | None, updated_at: str) -> None:
        if record is None:
            self.pointers.pop(model_name, None)
        else:
            self.pointers[model_name] = record.version

    def approved(self, model_name: str) -> VersionRecord | None:
        version = self.pointers.get(model_name)
        return self.version(model_name, version) if version else None

    def version(self, model_name: str, version: int) -> VersionRecord | None:
        return copy.deepcopy(self.records.get((model_name, version)))

    def versions(self, model_name: str) -> list[VersionRecord]:
        return [copy.deepcopy(r) for (name, _), r in sorted(self.records.items()) if name == model_name]

    def version_for_run(self, model_name: str, run_id: str) -> VersionRecord | None:
        return next((v for v in self.versions(model_name) if v.run_id == run_id), None)

    def model_names(self) -> list[str]:
        return sorted({name for name, _ in self.records} | set(self.pointers))

    def every_model(self) -> dict[str, tuple[list[VersionRecord], int | None]]:
        return {name: (self.versions(name), self.pointers.get(name)) for name in sorted({name for name, _ in self.records})}

    def record_deployment(self, model_name: str, deployment: dict[str, Any]) -> None:
        self.deployments[model_name] = copy.deepcopy(deployment)

    def deployment(self, model_name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.deployments.get(model_name))


class FakeRegistry:
    def __init__(self) -> None:
        self.groups: set[str] = set()
        self.packages: dict[str, dict[str, Any]] = {}  # ARN -> what was registered
        self.lineage: dict[tuple[str, int], dict[str, Any]] = {}  # (model, version) -> the record given to SageMaker

    def ensure_group(self, model_name: str, description: str) -> None:
        self.groups.add(model_name)

    def register(
        self, model_name: str, status: str, description: str, container: dict[str, Any], metadata: dict[str, str], documents: str = "",
    ) -> str:
        if model_name not in self.groups:
            raise AwsError(f"cannot register a model package in {model_name}: ValidationException (no such group)",
                           "ValidationException")
        version = sum(1 for arn in self.packages if arn.split("/")[-2] == model_name) + 1
        arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{model_name}/{version}"
        self.packages[arn] = {
            "status": status, "description": description, "container": container,
            "metadata": metadata, "documents": documents,
        }
        return arn

    def set_status(self, model_package_arn: str, status: str, description: str) -> None:
        self.packages[model_package_arn] |= {"status": status, "description": description}

    def status(self, model_package_arn: str) -> str:
        return str(self.packages[model_package_arn]["status"])

    def record_lineage(self, model_name: str, version: int, model_package_arn: str, lineage: dict[str, Any]) -> str:
        self.lineage[(model_name, version)] = copy.deepcopy(lineage)
        return f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:context/mlrelay-test-{model_name}-v{version}"

    def container(self, model_package_arn: str) -> dict[str, Any]:
        if model_package_arn not in self.packages:
            raise NotFoundError(f"cannot describe model package {model_package_arn}: ValidationException", "ValidationException")
        return dict(self.packages[model_package_arn]["container"])


@dataclass
class FakePipelineExecution:
    status: str = "Succeeded"
    failure_reason: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)


class FakePipelines:
    def __init__(self) -> None:
        self.executions: dict[str, FakePipelineExecution] = {}
        self.pipelines: dict[str, PipelineDescription] = {}

    def describe(self, pipeline_name: str) -> PipelineDescription:
        if pipeline_name not in self.pipelines:
            raise NotFoundError(f"cannot describe pipeline {pipeline_name}: ResourceNotFound", "ResourceNotFound")
        return self.pipelines[pipeline_name]

    def ensure(self, pipeline_name: str, definition: dict[str, Any], role_arn: str, description: str) -> bool:
        if pipeline_name in self.pipelines:
            return False
        self.pipelines[pipeline_name] = PipelineDescription(copy.deepcopy(definition), role_arn)
        return True

    def outcome(self, execution_arn: str) -> PipelineOutcome:
        execution = self._get(execution_arn)
        return PipelineOutcome(execution.status, execution.failure_reason)

    def retry(self, execution_arn: str, client_token: str) -> None:
        execution = self._get(execution_arn)
        if client_token not in execution.retries:
            execution.retries.append(client_token)
            execution.status = "Executing"

    def parameters(self, execution_arn: str) -> dict[str, str]:
        return dict(self._get(execution_arn).parameters)

    def steps(self, execution_arn: str) -> list[dict[str, Any]]:
        return self._get(execution_arn).steps

    def _get(self, execution_arn: str) -> FakePipelineExecution:
        if execution_arn not in self.executions:
            raise NotFoundError(f"cannot describe pipeline execution {execution_arn}: ResourceNotFound", "ResourceNotFound")
        return self.executions[execution_arn]


class FakeEndpoints:
    """SageMaker endpoints as the deploy steps see them; a test moves `states` to play SageMaker's side."""

    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.states: dict[str, EndpointState] = {}
        self.updates: list[tuple[str, str, dict[str, Any]]] = []
        self.alarms: dict[str, tuple[str, str]] = {}
        self.deleted: list[str] = []

    def describe(self, name: str) -> EndpointState | None:
        return self.states.get(name)

    def ensure_model(self, name: str, container: dict[str, Any], role_arn: str, tags: dict[str, str]) -> None:
        self.models.setdefault(name, {"container": container, "role_arn": role_arn, "tags": tags})

    def ensure_config(self, name: str, variant: dict[str, Any], tags: dict[str, str]) -> None:
        if variant["ModelName"] not in self.models:
            raise AwsError(f"Could not find model {variant['ModelName']}", "ValidationException")
        self.configs.setdefault(name, {"variant": variant, "tags": tags})

    def create(self, name: str, config_name: str, tags: dict[str, str]) -> None:
        self.states.setdefault(name, EndpointState(name, "Creating", config_name))

    def update(self, name: str, config_name: str, deployment_config: dict[str, Any]) -> None:
        if self.states[name].in_progress:
            raise EndpointBusyError(f"endpoint {name} is being changed")
        self.updates.append((name, config_name, deployment_config))
        self.states[name] = replace(self.states[name], status="Updating")

    def delete(self, name: str) -> None:
        self.deleted.append(name)
        self.states.pop(name, None)

    def ensure_error_alarm(self, alarm_name: str, endpoint: str, variant: str) -> None:
        self.alarms[alarm_name] = (endpoint, variant)

    def settle(self, name: str, config_name: str | None = None, status: str = "InService", reason: str = "") -> None:
        """SageMaker ends the change: in service on `config_name` (the update's, when not given)."""
        state = self.states[name]
        config = config_name or (self.updates[-1][1] if self.updates and self.updates[-1][0] == name else state.config_name)
        self.states[name] = EndpointState(name, status, config, reason)


class FakeModelRoles:
    def __init__(self, stage: str = "test") -> None:
        self.stage = stage
        self.roles: dict[str, str] = {}  # model -> role ARN

    def ensure(self, model_name: str) -> str:
        arn = f"arn:aws:iam::{ACCOUNT}:role{model_role_path(self.stage)}{model_role_name(self.stage, model_name)}"
        return self.roles.setdefault(model_name, arn)


class FakePipelineCallbacks:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, str]] = {}

    def record_outcome(self, execution_arn: str, status: str, failure_reason: str) -> str | None:
        item = self.items.setdefault(execution_arn, {})
        if item.get("pipeline_status", status) != status:
            raise OutcomeConflictError(f"pipeline execution {execution_arn} already has another outcome than {status}")
        item.update(pipeline_status=status, failure_reason=failure_reason)
        return item.get("task_token")

    def claim_delivery(self, execution_arn: str, now_iso: str) -> bool:
        item = self.items.setdefault(execution_arn, {})
        if "delivered_at" in item:
            return False
        item["delivered_at"] = now_iso
        return True

    def release_delivery(self, execution_arn: str, claimed_at: str) -> None:
        item = self.items.get(execution_arn, {})
        if item.get("delivered_at") == claimed_at:
            del item["delivered_at"]

    def forget(self, execution_arn: str) -> None:
        self.items.pop(execution_arn, None)


class FakeWorkflows:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, Any]] = {}  # execution ARN -> input

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> StartedExecution:
        arn = execution_arn_for(state_machine_arn, name)
        if arn in self.started:
            return StartedExecution(arn, already_existed=True)
        self.started[arn] = json.loads(json.dumps(payload))
        return StartedExecution(arn, already_existed=False)


class FakeTaskCallbacks:
    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, Any]] = {}  # token -> ("success", output) | ("failure", (error, cause))

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        return self._answer(token, ("success", output))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._answer(token, ("failure", (error, cause)))

    def _answer(self, token: str, answer: tuple[str, Any]) -> bool:
        if token in self.answers:
            return False  # a stale token: answered already
        self.answers[token] = answer
        return True


class FakeRunLedger:
    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.steps: dict[tuple[str, str], dict[str, Any]] = {}
        self.resumes: dict[str, list[ResumeEntry]] = {}
        self.resume_errors: dict[str, str] = {}

    def get(self, run_id: str) -> RunRecord | None:
        return self.runs.get(run_id)

    def begin_resume(self, entry: ResumeEntry) -> bool:
        record = self.runs.get(entry.run_id)
        if record is None or record.status != "FAILED" or record.resume_count != entry.attempt - 1:
            return False
        self.runs[entry.run_id] = replace(record, status="RUNNING", execution_arn=entry.execution_arn, resume_count=entry.attempt)
        self.resumes.setdefault(entry.run_id, []).append(entry)
        for step in entry.forget_steps:
            self.steps.pop((entry.run_id, step), None)
        return True

    def resume_not_started(self, run_id: str, reason: str) -> None:
        self.runs[run_id] = replace(self.runs[run_id], status="FAILED")
        self.resume_errors[run_id] = reason

    def record_step(self, run_id: str, step: str, entry: dict[str, Any]) -> None:
        self.steps[(run_id, step)] = dict(entry)

    def step(self, run_id: str, step: str) -> dict[str, Any]:
        return dict(self.steps.get((run_id, step), {}))


class FakeWatermarks:
    def __init__(self) -> None:
        self.until: dict[str, tuple[date, str, datetime]] = {}

    def last_until(self, model_name: str) -> date | None:
        return self.until[model_name][0] if model_name in self.until else None

    def last_success(self, model_name: str) -> datetime | None:
        return self.until[model_name][2] if model_name in self.until else None

    def advance(self, model_name: str, until: date, run_id: str) -> None:
        if model_name not in self.until or self.until[model_name][0] <= until:
            self.until[model_name] = (until, run_id, datetime.now(UTC))


class FakeRowCounts:
    def __init__(self) -> None:
        self.last: dict[tuple[str, str], tuple[int, str]] = {}

    def swap(self, model_name: str, mode: str, rows: int, run_id: str) -> int | None:
        old = self.last.get((model_name, mode))
        self.last[(model_name, mode)] = (rows, run_id)
        return None if old is None or old[1] == run_id else old[0]


class FakePredictionRuns:
    def __init__(self) -> None:
        self.runs: dict[tuple[str, int], list[str]] = {}

    def add(self, model_name: str, version: int, run_id: str) -> None:
        listed = self.runs.setdefault((model_name, version), [])
        if run_id not in listed:
            listed.append(run_id)

    def newest(self, model_name: str, version: int, limit: int) -> list[str]:
        return list(reversed(self.runs.get((model_name, version), [])))[:limit]


class FakeDataApi:
    """Records statements; `results` holds the rows a statement id will return."""

    def __init__(self) -> None:
        self.statements: dict[str, dict[str, Any]] = {}
        self.results: dict[str, list[list[Any]]] = {}
        self._tokens: dict[str, str] = {}

    def batch(self, sqls: list[str], client_token: str, name: str) -> str:
        return self._submit({"sqls": sqls, "name": name}, client_token)

    def execute(self, sql: str, parameters: list[dict[str, str]], client_token: str, name: str) -> str:
        return self._submit({"sqls": [sql], "parameters": parameters, "name": name}, client_token)

    def rows(self, statement_id: str) -> list[list[Any]]:
        return self.results.get(statement_id, [])

    def _submit(self, statement: dict[str, Any], client_token: str) -> str:
        if client_token in self._tokens:  # the same request again: the same statement
            return self._tokens[client_token]
        statement_id = f"stmt-{len(self.statements) + 1}"
        self.statements[statement_id] = statement
        self._tokens[client_token] = statement_id
        return statement_id


class FakeQueue:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.delays: list[int] = []

    def send(self, message: Any, delay_seconds: int = 0) -> str:
        self.messages.append(json.loads(message.model_dump_json()))
        self.delays.append(delay_seconds)
        return f"m-{len(self.messages)}"


@dataclass
class FakeAlertRecord:
    message_ids: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)
    naming_due: bool = False
    window_ends: int = 0
    posting: dict[str, str] = field(default_factory=dict)  # post mark -> "<window_ends>|<message id>" of its sender
    sent: tuple[str, str, int] = ("", "", 0)  # the last post's title, text and time


class FakeAlertLedger:
    def __init__(self) -> None:
        self.items: dict[str, FakeAlertRecord] = {}

    def record(self, collapse_key: str, message_id: str, now: int, window_seconds: int, run: str | None = None) -> Any:
        item = self.items.get(collapse_key)
        if item is None:
            item = self.items[collapse_key] = FakeAlertRecord(window_ends=now + window_seconds)
        elif item.window_ends <= now:  # a new window: counted and delivered anew, the runs kept
            item.message_ids, item.delivered, item.window_ends = set(), set(), now + window_seconds
            item.sent = ("", "", 0)
        item.message_ids.add(message_id)
        if run:
            item.runs.add(run)
        return self._as_record(item)

    def claim_post(self, collapse_key: str, mark: str, message_id: str, window_ends: int) -> bool:
        claims = self.items[collapse_key].posting
        claim = f"{window_ends}|{message_id}"
        if claims.get(mark, claim) != claim and claims[mark].startswith(f"{window_ends}|"):
            return False
        claims[mark] = claim
        return True

    def mark_delivered(self, collapse_key: str, channel: str) -> None:
        self.items[collapse_key].delivered.add(channel)

    def keep_words(self, collapse_key: str, title: str, text: str, now: int) -> None:
        self.items[collapse_key].sent = (title, text, now)

    def recent(self, limit: int = 500) -> list[Any]:
        from chalicelib.aws.alert_ledger import SentAlert, channel_of

        sent = [SentAlert(key, item.sent[0], item.sent[1], item.sent[2], item.window_ends, len(item.message_ids),
                          tuple(sorted({channel_of(mark) for mark in item.delivered})), tuple(sorted(item.runs)))
                for key, item in self.items.items()]
        return sorted(sent, key=lambda alert: alert.sent_at, reverse=True)[:limit]

    def mark_named(self, collapse_key: str, runs: list[str]) -> None:
        self.items[collapse_key].named.update(runs)

    def schedule_naming(self, collapse_key: str) -> bool:
        item = self.items[collapse_key]
        due, item.naming_due = item.naming_due, True
        return not due

    def cancel_naming(self, collapse_key: str) -> None:
        self.items[collapse_key].naming_due = False

    def take_naming(self, collapse_key: str) -> Any:
        item = self.items[collapse_key]
        item.naming_due = False
        return self._as_record(item)

    @staticmethod
    def _as_record(item: FakeAlertRecord) -> Any:
        from chalicelib.aws.alert_ledger import AlertRecord

        return AlertRecord(frozenset(item.message_ids), frozenset(item.delivered), item.window_ends, frozenset(item.runs),
                           frozenset(item.named))


class FakePreferences:
    def __init__(self) -> None:
        self.settings: dict[str, dict[str, Any]] = {}

    def put(self, model_name: str, notifications: dict[str, Any]) -> None:
        self.settings[model_name] = dict(notifications)

    def get(self, model_name: str) -> dict[str, Any] | None:
        return self.settings.get(model_name)


class FakeTopic:
    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []
        self.down = False

    def publish(self, subject: str, body: str) -> str:
        if self.down:
            raise AwsError("cannot publish to the alerts topic: InternalError", "InternalError")
        self.published.append((subject, body))
        return f"sns-{len(self.published)}"


class FakeSlack:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.down = False

    def post(self, message: dict[str, Any]) -> None:
        from chalicelib.aws.slack import SlackDeliveryError

        if self.down:
            raise SlackDeliveryError("Slack answered 503: error")
        self.posts.append(message)


@dataclass
class FakePorts:
    artifact_bucket: str = "mlrelay-test-artifacts"
    region: str = "eu-west-1"
    training_pipeline: str = "mlrelay-test-training"
    inference_pipeline: str = "mlrelay-test-inference"
    quality_pipeline: str = "mlrelay-test-quality"
    training_machine: str = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:mlrelay-test-training"
    inference_machine: str = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:mlrelay-test-inference"
    segments_machine: str = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:mlrelay-test-segments"
    deploy_machine: str = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:mlrelay-test-deploy"
    predictions_table: tuple[str, str] = ("mlrelay", "predictions")
    copy_role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/mlrelay-test-redshift-copy"
    s3: FakeS3 = field(default_factory=FakeS3)
    models: FakeModelVersions = field(default_factory=FakeModelVersions)
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    pipelines: FakePipelines = field(default_factory=FakePipelines)
    model_roles: FakeModelRoles = field(default_factory=FakeModelRoles)
    endpoints: FakeEndpoints = field(default_factory=FakeEndpoints)
    pipeline_callbacks: FakePipelineCallbacks = field(default_factory=FakePipelineCallbacks)
    workflows: FakeWorkflows = field(default_factory=FakeWorkflows)
    task_callbacks: FakeTaskCallbacks = field(default_factory=FakeTaskCallbacks)
    runs: FakeRunLedger = field(default_factory=FakeRunLedger)
    watermarks: FakeWatermarks = field(default_factory=FakeWatermarks)
    row_counts: FakeRowCounts = field(default_factory=FakeRowCounts)
    prediction_runs: FakePredictionRuns = field(default_factory=FakePredictionRuns)
    warehouse: FakeDataApi = field(default_factory=FakeDataApi)
    failures: FakeQueue = field(default_factory=FakeQueue)
    notifications: FakeQueue = field(default_factory=FakeQueue)
    alert_ledger: FakeAlertLedger = field(default_factory=FakeAlertLedger)
    preferences: FakePreferences = field(default_factory=FakePreferences)
    topic: FakeTopic = field(default_factory=FakeTopic)
    slack: FakeSlack = field(default_factory=FakeSlack)


def _every_fake_plays_its_role(fakes: FakePorts) -> Ports:
    """Never called: mypy (make test checks this file) holds each fake to its adapter's role, as the use cases see it."""
    return fakes
