"""The ports each workflow's use cases work through: one protocol per member, and one per workflow that names
the members its use cases use, so that mypy (make test) refuses a use case reaching for a port its workflow does not
declare. `Ports` (chalicelib/shared/ports.py) has them all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.shared import adapters


class HasArtifactBucket(Protocol):
    @property
    def artifact_bucket(self) -> str: ...


class HasRegion(Protocol):
    @property
    def region(self) -> str: ...


class HasTrainingPipeline(Protocol):
    @property
    def training_pipeline(self) -> str: ...  # the base training pipeline's name


class HasInferencePipeline(Protocol):
    @property
    def inference_pipeline(self) -> str: ...


class HasQualityPipeline(Protocol):
    @property
    def quality_pipeline(self) -> str: ...  # labels judged against stored predictions


class HasTrainingMachine(Protocol):
    @property
    def training_machine(self) -> str: ...  # state machine ARNs


class HasInferenceMachine(Protocol):
    @property
    def inference_machine(self) -> str: ...


class HasSegmentsMachine(Protocol):
    @property
    def segments_machine(self) -> str: ...  # a model family: one training run per segment


class HasDeployMachine(Protocol):
    @property
    def deploy_machine(self) -> str: ...  # deploys an approved version to its endpoint


class HasEndpoints(Protocol):
    @property
    def endpoints(self) -> adapters.EndpointService: ...


class HasPredictionsTable(Protocol):
    @property
    def predictions_table(self) -> tuple[str, str]: ...  # schema, table


class HasCopyRoleArn(Protocol):
    @property
    def copy_role_arn(self) -> str: ...  # the role Redshift assumes to COPY from S3


class HasS3(Protocol):
    @property
    def s3(self) -> adapters.ObjectStore: ...


class HasModels(Protocol):
    @property
    def models(self) -> adapters.ModelStore: ...


class HasRegistry(Protocol):
    @property
    def registry(self) -> adapters.Registry: ...


class HasPipelines(Protocol):
    @property
    def pipelines(self) -> adapters.PipelineService: ...


class HasModelRoles(Protocol):
    @property
    def model_roles(self) -> adapters.RoleMaker: ...  # the role each model's pipeline jobs run with


class HasPipelineCallbacks(Protocol):
    @property
    def pipeline_callbacks(self) -> adapters.CallbackStore: ...


class HasWorkflows(Protocol):
    @property
    def workflows(self) -> adapters.WorkflowStarter: ...


class HasTaskCallbacks(Protocol):
    @property
    def task_callbacks(self) -> adapters.TaskAnswers: ...


class HasRuns(Protocol):
    @property
    def runs(self) -> adapters.RunStore: ...


class HasWatermarks(Protocol):
    @property
    def watermarks(self) -> adapters.Watermarks: ...


class HasRowCounts(Protocol):
    @property
    def row_counts(self) -> adapters.RowCountStore: ...


class HasPredictionRuns(Protocol):
    @property
    def prediction_runs(self) -> adapters.PredictionRunStore: ...


class HasWarehouse(Protocol):
    @property
    def warehouse(self) -> adapters.Warehouse: ...


class HasFailures(Protocol):
    @property
    def failures(self) -> adapters.MessageQueue: ...


class HasNotifications(Protocol):
    @property
    def notifications(self) -> adapters.MessageQueue: ...


class HasAlertLedger(Protocol):
    @property
    def alert_ledger(self) -> adapters.AlertLedgerStore: ...


class HasPreferences(Protocol):
    @property
    def preferences(self) -> adapters.PreferenceStore: ...


class HasTopic(Protocol):
    @property
    def topic(self) -> adapters.AlertChannel: ...


class HasSlack(Protocol):
    @property
    def slack(self) -> adapters.SlackChannel: ...


class AlertsPorts(HasAlertLedger, HasFailures, HasPreferences, HasSlack, HasTopic, Protocol):
    """What the alerts consumer (chalicelib/alerts/) uses."""


class ApprovalsPorts(HasDeployMachine, HasModels, HasNotifications, HasRegistry, HasS3, HasWorkflows, Protocol):
    """What approvals and registry events (chalicelib/approvals/) uses."""


class InferencePorts(
    HasArtifactBucket, HasCopyRoleArn, HasInferenceMachine, HasInferencePipeline, HasModelRoles, HasModels,
    HasNotifications, HasPipelines, HasPredictionRuns, HasPredictionsTable, HasQualityPipeline, HasRegion, HasRegistry, HasRowCounts, HasS3,
    HasTrainingMachine, HasWarehouse, HasWatermarks, HasWorkflows, Protocol
):
    """What the inference workflow's steps, its schedules and checks (chalicelib/inference/) uses."""


class IntakePorts(
    HasFailures, HasInferenceMachine, HasPreferences, HasS3, HasSegmentsMachine, HasTrainingMachine, HasWorkflows,
    Protocol
):
    """What the config drop's trigger (chalicelib/intake/) uses."""


class PipelineStatusPorts(HasArtifactBucket, HasPipelineCallbacks, HasPipelines, HasS3, HasTaskCallbacks, Protocol):
    """What the pipeline status handler (chalicelib/pipeline_status/) uses."""


class ResumePorts(
    HasDeployMachine, HasInferenceMachine, HasPipelineCallbacks, HasPipelines, HasRuns, HasS3, HasSegmentsMachine, HasTrainingMachine,
    HasWorkflows, Protocol
):
    """What resuming a run (chalicelib/resume/) uses."""


class TrainingPorts(
    HasArtifactBucket, HasDeployMachine, HasEndpoints, HasModelRoles, HasModels, HasPipelines, HasRegion, HasRegistry, HasS3,
    HasTrainingPipeline, HasWorkflows, Protocol
):
    """What the training and segments workflows' steps (chalicelib/training/) uses."""


class StepLedgerPorts(HasArtifactBucket, HasRuns, HasS3, Protocol):
    """What recording a step's output for a resume (chalicelib/shared/step_ledger.py) uses."""
