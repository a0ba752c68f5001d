"""The adapter roles a use case works through, as protocols: what use cases call on each.

The AWS adapters (chalicelib/aws/) and the unit tests' fakes (tests/unit/fakes.py)
both satisfy them; mypy checks both against them (make test), so a method a
use case calls that a fake lacks, or that takes other arguments, fails there
and not in a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.aws.alert_ledger import AlertRecord
    from chalicelib.aws.model_versions import VersionRecord
    from chalicelib.aws.s3 import Fingerprint, ObjectContent
    from chalicelib.aws.sagemaker import PipelineDescription, PipelineOutcome
    from chalicelib.aws.stepfunctions import StartedExecution
    from chalicelib.shared.pinning import FileVersion, PinnedInput
    from chalicelib.shared.runs import ResumeEntry, RunRecord


class ObjectStore(Protocol):
    """What use cases call on S3Objects (chalicelib/aws/s3.py)."""

    def read(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> ObjectContent: ...

    def read_json(self, bucket: str, key: str, max_bytes: int) -> Any: ...

    def version_of(self, uri: str) -> str: ...

    def fingerprint(self, uri: str) -> Fingerprint: ...

    def identity(self, uri: str) -> str: ...

    def archive_holds_files(self, uri: str, max_bytes: int = 1024 * 1024) -> bool: ...

    def exists(self, uri: str) -> bool: ...

    def first_bytes(self, bucket: str, key: str, max_bytes: int) -> ObjectContent: ...

    def first_table_file(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> str | None: ...

    def table_lines(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> Iterator[tuple[str, str]]: ...

    def put_json(self, bucket: str, key: str, document: Any) -> None: ...

    def file_versions(self, uri: str, suffix: str = ".csv") -> list[FileVersion]: ...

    def pin(self, uri: str, bucket: str, kind: str) -> PinnedInput: ...


class ModelStore(Protocol):
    """What use cases call on ModelVersions (chalicelib/aws/model_versions.py)."""

    def put(self, record: VersionRecord) -> None: ...

    def point_to(self, record: VersionRecord) -> bool: ...

    def point_to_if(self, record: VersionRecord, judged_against: int | None) -> bool: ...

    def set_status(self, model_name: str, version: int, expected: str, status: str, entry: dict[str, Any]) -> bool: ...

    def set_pointer(self, model_name: str, record: VersionRecord | None, updated_at: str) -> None: ...

    def approved(self, model_name: str) -> VersionRecord | None: ...

    def version(self, model_name: str, version: int) -> VersionRecord | None: ...

    def versions(self, model_name: str) -> list[VersionRecord]: ...

    def version_for_run(self, model_name: str, run_id: str) -> VersionRecord | None: ...

    def model_names(self) -> list[str]: ...


class Registry(Protocol):
    """What use cases call on ModelRegistry (chalicelib/aws/sagemaker.py)."""

    def ensure_group(self, model_name: str, description: str) -> None: ...

    def register(
        self, model_name: str, status: str, description: str, container: dict[str, Any], metadata: dict[str, str],
        documents: str = "",
    ) -> str: ...

    def set_status(self, model_package_arn: str, status: str, description: str) -> None: ...

    def status(self, model_package_arn: str) -> str: ...

    def container(self, model_package_arn: str) -> dict[str, Any]: ...

    def record_lineage(self, model_name: str, version: int, model_package_arn: str, lineage: dict[str, Any]) -> str: ...


class PipelineService(Protocol):
    """What use cases call on Pipelines (chalicelib/aws/sagemaker.py)."""

    def outcome(self, execution_arn: str) -> PipelineOutcome: ...

    def retry(self, execution_arn: str, client_token: str) -> None: ...

    def parameters(self, execution_arn: str) -> dict[str, str]: ...

    def steps(self, execution_arn: str) -> list[dict[str, Any]]: ...

    def describe(self, pipeline_name: str) -> PipelineDescription: ...

    def ensure(self, pipeline_name: str, definition: dict[str, Any], role_arn: str, description: str) -> bool: ...


class RoleMaker(Protocol):
    """What use cases call on ModelRoles (chalicelib/aws/model_roles.py)."""

    def ensure(self, model_name: str) -> str: ...


class CallbackStore(Protocol):
    """What use cases call on PipelineCallbacks (chalicelib/aws/callbacks.py)."""

    def record_outcome(self, execution_arn: str, status: str, failure_reason: str) -> str | None: ...

    def claim_delivery(self, execution_arn: str, now_iso: str) -> bool: ...

    def release_delivery(self, execution_arn: str, claimed_at: str) -> None: ...

    def forget(self, execution_arn: str) -> None: ...


class WorkflowStarter(Protocol):
    """What use cases call on Workflows (chalicelib/aws/stepfunctions.py)."""

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> StartedExecution: ...


class TaskAnswers(Protocol):
    """What use cases call on TaskCallbacks (chalicelib/aws/stepfunctions.py)."""

    def succeed(self, token: str, output: dict[str, Any]) -> bool: ...

    def fail(self, token: str, error: str, cause: str) -> bool: ...


class RunStore(Protocol):
    """What use cases call on RunLedger (chalicelib/aws/run_ledger.py)."""

    def get(self, run_id: str) -> RunRecord | None: ...

    def begin_resume(self, entry: ResumeEntry) -> bool: ...

    def resume_not_started(self, run_id: str, reason: str) -> None: ...

    def record_step(self, run_id: str, step: str, entry: dict[str, Any]) -> None: ...

    def step(self, run_id: str, step: str) -> dict[str, Any]: ...


class Watermarks(Protocol):
    """What use cases call on DailyWatermarks (chalicelib/aws/watermarks.py)."""

    def last_until(self, model_name: str) -> date | None: ...

    def last_success(self, model_name: str) -> datetime | None: ...

    def advance(self, model_name: str, until: date, run_id: str) -> None: ...


class RowCountStore(Protocol):
    """What use cases call on RowCounts (chalicelib/aws/watermarks.py)."""

    def swap(self, model_name: str, mode: str, rows: int, run_id: str) -> int | None: ...


class PredictionRunStore(Protocol):
    """What use cases call on PredictionRuns (chalicelib/aws/watermarks.py)."""

    def add(self, model_name: str, version: int, run_id: str) -> None: ...

    def newest(self, model_name: str, version: int, limit: int) -> list[str]: ...


class Warehouse(Protocol):
    """What use cases call on DataApi (chalicelib/aws/redshift_data.py)."""

    def batch(self, sqls: list[str], client_token: str, name: str) -> str: ...

    def execute(self, sql: str, parameters: list[dict[str, str]], client_token: str, name: str) -> str: ...

    def rows(self, statement_id: str) -> list[list[Any]]: ...


class MessageQueue(Protocol):
    """What use cases call on Queue (chalicelib/aws/sqs.py)."""

    def send(self, message: BaseModel, delay_seconds: int = 0) -> str: ...


class AlertLedgerStore(Protocol):
    """What use cases call on AlertLedger (chalicelib/aws/alert_ledger.py)."""

    def record(self, collapse_key: str, message_id: str, now: int, window_seconds: int, run: str | None = None) -> AlertRecord: ...

    def claim_post(self, collapse_key: str, mark: str, message_id: str, window_ends: int) -> bool: ...

    def mark_delivered(self, collapse_key: str, channel: str) -> None: ...

    def mark_named(self, collapse_key: str, runs: list[str]) -> None: ...

    def schedule_naming(self, collapse_key: str) -> bool: ...

    def cancel_naming(self, collapse_key: str) -> None: ...

    def take_naming(self, collapse_key: str) -> AlertRecord: ...


class PreferenceStore(Protocol):
    """What use cases call on NotificationPreferences (chalicelib/aws/preferences.py)."""

    def put(self, model_name: str, notifications: dict[str, Any]) -> None: ...

    def get(self, model_name: str) -> dict[str, Any] | None: ...


class AlertChannel(Protocol):
    """What use cases call on AlertsTopic (chalicelib/aws/sns.py)."""

    def publish(self, subject: str, body: str) -> str: ...


class SlackChannel(Protocol):
    """What use cases call on SlackWebhook (chalicelib/aws/slack.py)."""

    def post(self, message: dict[str, Any]) -> None: ...

