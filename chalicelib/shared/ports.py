"""The adapters a use case works through, built once per Lambda container.

Use cases take their workflow's ports (chalicelib/shared/port_roles.py) and
never build an adapter themselves, so the same code runs against AWS (AwsPorts,
each adapter made on first use from the stack's settings) and against
in-memory fakes in the unit tests (FakePorts). Both have every port (`Ports`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from chalicelib.aws.clients import cached
from chalicelib.shared import settings
from chalicelib.shared.port_roles import (
    AlertsPorts,
    ApprovalsPorts,
    InferencePorts,
    IntakePorts,
    PipelineStatusPorts,
    ResumePorts,
    StepLedgerPorts,
    TrainingPorts,
)

if TYPE_CHECKING:
    from chalicelib.aws.alert_ledger import AlertLedger
    from chalicelib.aws.callbacks import PipelineCallbacks
    from chalicelib.aws.endpoints import Endpoints
    from chalicelib.aws.model_roles import ModelRoles
    from chalicelib.aws.model_versions import ModelVersions
    from chalicelib.aws.preferences import NotificationPreferences
    from chalicelib.aws.redshift_data import DataApi
    from chalicelib.aws.run_ledger import RunLedger
    from chalicelib.aws.s3 import S3Objects
    from chalicelib.aws.sagemaker import ModelRegistry, Pipelines
    from chalicelib.aws.slack import SlackWebhook
    from chalicelib.aws.sns import AlertsTopic
    from chalicelib.aws.sqs import Queue
    from chalicelib.aws.stepfunctions import TaskCallbacks, Workflows
    from chalicelib.aws.watermarks import DailyWatermarks, PredictionRuns, RowCounts


class Ports(
    AlertsPorts, ApprovalsPorts, InferencePorts, IntakePorts, PipelineStatusPorts, ResumePorts, TrainingPorts, StepLedgerPorts,
    Protocol,
):
    """Every port: what a handler builds (AwsPorts) and the unit tests fake (FakePorts). Use cases take their workflow's
    (chalicelib/shared/port_roles.py); each adapter is typed by its role (chalicelib/shared/adapters.py)."""


class AwsPorts:
    """Each adapter is created on first use: a function builds only what its handler needs."""

    @cached_property
    def artifact_bucket(self) -> str:
        return settings.artifact_bucket()

    @cached_property
    def region(self) -> str:
        return settings.region()

    @cached_property
    def training_pipeline(self) -> str:
        return settings.training_pipeline_name()

    @cached_property
    def inference_pipeline(self) -> str:
        return settings.inference_pipeline_name()

    @cached_property
    def quality_pipeline(self) -> str:
        return settings.quality_pipeline_name()

    @cached_property
    def training_machine(self) -> str:
        return settings.training_state_machine_arn()

    @cached_property
    def inference_machine(self) -> str:
        return settings.inference_state_machine_arn()

    @cached_property
    def segments_machine(self) -> str:
        return settings.segments_state_machine_arn()

    @cached_property
    def deploy_machine(self) -> str:
        return settings.deploy_state_machine_arn()

    @cached_property
    def endpoints(self) -> Endpoints:
        from chalicelib.aws.endpoints import Endpoints

        return Endpoints()

    @cached_property
    def predictions_table(self) -> tuple[str, str]:
        return settings.predictions_table()

    @cached_property
    def copy_role_arn(self) -> str:
        return settings.copy_role_arn()

    @cached_property
    def s3(self) -> S3Objects:
        from chalicelib.aws.s3 import S3Objects

        return S3Objects()

    @cached_property
    def models(self) -> ModelVersions:
        from chalicelib.aws.model_versions import ModelVersions

        return ModelVersions(settings.models_table())

    @cached_property
    def registry(self) -> ModelRegistry:
        from chalicelib.aws.sagemaker import ModelRegistry

        return ModelRegistry(stage=settings.stage())

    @cached_property
    def pipelines(self) -> Pipelines:
        from chalicelib.aws.sagemaker import Pipelines

        return Pipelines()

    @cached_property
    def model_roles(self) -> ModelRoles:
        from chalicelib.aws.model_roles import ModelRoles

        return ModelRoles(settings.stage(), settings.model_job_policy_arn())

    @cached_property
    def pipeline_callbacks(self) -> PipelineCallbacks:
        from chalicelib.aws.callbacks import PipelineCallbacks

        return PipelineCallbacks(settings.pipeline_callbacks_table())

    @cached_property
    def workflows(self) -> Workflows:
        from chalicelib.aws.stepfunctions import Workflows

        return Workflows()

    @cached_property
    def task_callbacks(self) -> TaskCallbacks:
        from chalicelib.aws.stepfunctions import TaskCallbacks

        return TaskCallbacks()

    @cached_property
    def runs(self) -> RunLedger:
        from chalicelib.aws.run_ledger import RunLedger

        return RunLedger(settings.runs_table())

    @cached_property
    def watermarks(self) -> DailyWatermarks:
        from chalicelib.aws.watermarks import DailyWatermarks

        return DailyWatermarks(settings.runs_table())

    @cached_property
    def row_counts(self) -> RowCounts:
        from chalicelib.aws.watermarks import RowCounts

        return RowCounts(settings.runs_table())

    @cached_property
    def prediction_runs(self) -> PredictionRuns:
        from chalicelib.aws.watermarks import PredictionRuns

        return PredictionRuns(settings.runs_table())

    @cached_property
    def warehouse(self) -> DataApi:
        from chalicelib.aws.redshift_data import DataApi

        return DataApi(settings.warehouse_connection())

    @cached_property
    def failures(self) -> Queue:
        from chalicelib.aws.sqs import Queue

        return Queue(settings.failures_queue_url())

    @cached_property
    def notifications(self) -> Queue:
        from chalicelib.aws.sqs import Queue

        return Queue(settings.notifications_queue_url())

    @cached_property
    def alert_ledger(self) -> AlertLedger:
        from chalicelib.aws.alert_ledger import AlertLedger

        return AlertLedger(settings.alerts_table())

    @cached_property
    def preferences(self) -> NotificationPreferences:
        from chalicelib.aws.preferences import NotificationPreferences

        return NotificationPreferences(settings.runs_table())

    @cached_property
    def topic(self) -> AlertsTopic:
        from chalicelib.aws.sns import AlertsTopic

        return AlertsTopic(settings.alerts_topic_arn())

    @cached_property
    def slack(self) -> SlackWebhook:
        from chalicelib.aws.slack import SlackWebhook

        return SlackWebhook(settings.slack_webhook_parameter(), settings.slack_min_interval_seconds())


@cached
def aws_ports() -> AwsPorts:
    """One set per container; forgotten with the clients when the embedded stack's endpoint changes."""
    return AwsPorts()
