"""Messages between the parts: workflow inputs, and what goes to the failures and notifications queues.

Past-tense names are events (something happened). Everything the alerts
consumer reads is one `AlertMessage`: a model per kind, including the
`step_failed` message the state machines build and the record Lambda sends
to a trigger's on-failure destination, so a renamed field fails a test instead
of showing "?" in an alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

# SQS messages are at most 256 KiB; a config can produce many problems, so the
# message carries the first ones and the full list lives in the error report.
MAX_PROBLEMS_IN_MESSAGE = 50


class ProblemEntry(BaseModel):
    path: str
    message: str


class SegmentRef(BaseModel):
    """One segment of a config's model family: its rows are those whose `column` holds `value`."""

    column: str
    value: str


class Reproduction(BaseModel):
    """A run that retrains a version from exactly its recorded inputs (`mlrelay models reproduce`): their pinned copies."""

    model_name: str
    version: int
    table_uri: str
    code_uri: str


class ConfigRef(BaseModel):
    """The config version a run trains from, and for a model of a family, the segment it is for."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str = ""
    segment: SegmentRef | None = None
    reproduces: Reproduction | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class ConfigRejected(BaseModel):
    """A dropped config failed validation; nothing was started."""

    kind: Literal["config_rejected"] = "config_rejected"
    workflow: Literal["training", "inference"]
    config: ConfigRef
    problems: list[ProblemEntry] = Field(max_length=MAX_PROBLEMS_IN_MESSAGE)
    problem_count: int
    report_uri: str
    occurred_at: datetime


class TrainingRequested(BaseModel):
    """The input of a training execution (well under Step Functions' 256 KiB)."""

    run_id: str
    workflow: Literal["training", "segments"] = "training"  # segments: a model family, one training run per segment
    model_name: str
    config: ConfigRef
    requested_at: datetime
    # How long to wait for the pipeline; None derives it from the config.
    callback_timeout_seconds: int | None = Field(None, ge=1)


class DeployRequested(BaseModel):
    """The input of a deploy execution: a version that became the approved one, to its endpoint."""

    run_id: str
    workflow: Literal["deploy"] = "deploy"
    model_name: str
    version: int = Field(ge=1)
    reason: str  # what made it the approved version: a training run, a person's decision
    requested_at: datetime


class TrainingOutcome(BaseModel):
    """A trained model was judged against the approved one (sent to the notifications path).

    model_pending_approval: it passed the rules and, with approval.mode manual, waits for a person.
    """

    kind: Literal["model_promoted", "model_rejected", "model_pending_approval"]
    workflow: Literal["training"] = "training"
    run_id: str
    model_name: str
    version: int
    model_package_arn: str
    primary_metric: str
    score: float
    baseline_version: int | None
    baseline_score: float | None
    deltas: dict[str, float]
    reasons: list[str]
    occurred_at: datetime


class SegmentOutcome(BaseModel):
    value: str
    model_name: str
    run_id: str
    status: Literal["Approved", "Rejected", "PendingManualApproval", "Failed"]
    version: int | None = None
    detail: str = ""  # the metric, the rules that failed, or the error


class SegmentsTrained(BaseModel):
    """A model family's training run ended: how each segment's model was judged (one notice for all of them)."""

    kind: Literal["segments_trained"] = "segments_trained"
    workflow: Literal["segments"] = "segments"
    run_id: str
    model_name: str
    column: str
    segments: list[SegmentOutcome] = Field(max_length=500)
    occurred_at: datetime

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for outcome in self.segments:
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    def table(self) -> str:
        """One line per segment, in plain text (the alert's detail, and a failed run's cause)."""
        width = max((len(o.value) for o in self.segments), default=0)
        return "\n".join(
            f"{o.value:<{width}}  {o.status + (f' v{o.version}' if o.version else ''):<24} {o.detail}".rstrip() for o in self.segments
        )


class ModelDecided(BaseModel):
    """A person approved, rejected or rolled back a model version (by `mlrelay models` or in the registry)."""

    kind: Literal["model_decided"] = "model_decided"
    model_name: str
    action: Literal["approve", "reject", "rollback"]
    version: int  # the version decided on (for a rollback: the one rolled back to)
    status: str  # its registry status now
    actor: str  # the caller's identity ARN, or where the change came from
    reason: str
    source: Literal["mlrelay", "registry"]
    approved_before: int | None  # the approved pointer before and after
    approved_after: int | None
    occurred_at: datetime


class InferenceRequested(BaseModel):
    """The input of an inference execution."""

    run_id: str
    workflow: Literal["inference"] = "inference"
    model_name: str
    mode: Literal["daily", "monthly", "on_demand", "quality"]  # quality: labels judged against stored predictions
    scheduled_for: datetime  # the schedule's time, or the drop's event time
    catalogue_uri: str | None = None  # mode quality: the labels file
    callback_timeout_seconds: int | None = Field(None, ge=1)
    predictions_table: str | None = None  # "schema.table" for an on-demand request that names one; else the stage's


class PredictionsLoaded(BaseModel):
    """An inference run's predictions are in the warehouse (sent to the notifications path)."""

    kind: Literal["predictions_loaded"] = "predictions_loaded"
    workflow: Literal["inference"] = "inference"
    run_id: str
    model_name: str
    model_version: int
    mode: str
    rows_loaded: int
    per_class: dict[str, int]  # classification
    values: dict[str, float] | None = None  # regression: min, max, mean of the predicted values
    table: str
    previous_rows: int | None = None  # the previous run's, same model and mode
    far_from_previous: bool = False
    occurred_at: datetime


class DriftedFeature(BaseModel):
    feature: str
    check: str  # Model Monitor's constraint_check_type
    detail: str  # the test and its distance or p-value, or the violation's description


class DataDriftDetected(BaseModel):
    """An inference run's items broke the version's baseline constraints, drifted, or moved its SHAP ranking."""

    kind: Literal["data_drift_detected"] = "data_drift_detected"
    workflow: Literal["inference"] = "inference"
    run_id: str
    model_name: str
    model_version: int
    mode: str
    rows: int
    violations: int
    features: list[DriftedFeature] = Field(max_length=20)  # the worst first
    ndcg: float | None = None
    ndcg_threshold: float = 0.9
    attribution_drift: bool = False
    top_features_training: list[str] = Field(default_factory=list)
    top_features_now: list[str] = Field(default_factory=list)
    report_uri: str
    loaded: bool  # warn: the predictions were loaded anyway; block: nothing was loaded
    occurred_at: datetime


class ModelQualityMeasured(BaseModel):
    """Labels that arrived later, judged against the predictions the approved version made."""

    kind: Literal["model_quality_measured"] = "model_quality_measured"
    workflow: Literal["inference"] = "inference"
    run_id: str
    model_name: str
    model_version: int
    metric: str
    lower_is_better: bool
    value: float
    training_value: float | None  # the version's own evaluation at training
    dropped: bool  # worse than training by more than approval.max_regression
    reasons: list[str]
    labelled_rows: int
    matched_rows: int
    metrics_uri: str
    retraining_run_id: str | None = None  # monitoring.retrain_on_quality_drop started one
    occurred_at: datetime


class DailyInferenceStale(BaseModel):
    """A model that asks for daily predictions has had no successful daily run for 36 hours."""

    kind: Literal["daily_inference_stale"] = "daily_inference_stale"
    workflow: Literal["inference"] = "inference"
    model_name: str
    last_success: datetime | None
    checked_at: datetime


class StepFailed(BaseModel):
    """A run failed at a step (built by the state machines' ReportFailure state)."""

    kind: Literal["step_failed"] = "step_failed"
    workflow: Literal["training", "inference", "segments", "deploy"]
    run_id: str
    model_name: str
    state: str  # the step that failed, which is where a resume re-enters
    error: str
    cause: str | None = None
    execution_arn: str = ""
    occurred_at: datetime


class FoldedRuns(BaseModel):
    """Runs whose failure folded into an earlier post of the same failure (chalicelib/alerts/plan.py): the alerts
    consumer sends this to itself, delayed, and then names each run the posts have not named yet."""

    kind: Literal["folded_runs"] = "folded_runs"
    collapse_key: str
    workflow: Literal["training", "inference", "segments", "deploy"]
    model_name: str
    state: str
    error: str
    runs: list[str] = Field(default_factory=list)  # filled from the alert ledger when it is delivered


class LambdaRequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: str
    functionArn: str
    condition: str = ""
    approximateInvokeCount: int = 0


class LambdaFailure(BaseModel):
    """Lambda's record for an asynchronous invocation that failed after its retries (an on-failure destination)."""

    model_config = ConfigDict(extra="ignore")

    timestamp: str
    requestContext: LambdaRequestContext
    requestPayload: Any = None
    responsePayload: dict[str, Any] | None = None

    @property
    def function_name(self) -> str:
        return self.requestContext.functionArn.split(":function:")[-1].split(":")[0]


class EventRejected(BaseModel):
    """A trigger got an event it cannot parse: reported once, never retried (it would fail the same way)."""

    kind: Literal["event_rejected"] = "event_rejected"
    function: str
    expected: str  # the event model it should have matched
    problems: list[str]
    event_excerpt: str
    occurred_at: datetime


class AlarmState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str
    reason: str = ""
    timestamp: str = ""


class AlarmDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    alarmName: str
    state: AlarmState
    previousState: AlarmState | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)


class AlarmStateChanged(BaseModel):
    """EventBridge's "CloudWatch Alarm State Change" for one of the stack's alarms (AlarmStateRule sends it to the failures
    queue: alarms cannot publish to a topic under the AWS-managed SNS key)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    time: datetime
    region: str = ""
    detail: AlarmDetail


class UnreadableMessage(BaseModel):
    """A queue message that is none of the kinds above: a bug in whoever sent it, still shown to people."""

    kind: Literal["unreadable"] = "unreadable"
    body: str
    problems: list[str]


def _kind_of(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if not isinstance(value, dict):
        return None
    if value.get("detail-type") == "CloudWatch Alarm State Change":
        return "alarm_state_changed"
    if "kind" in value:
        outcomes = ("model_promoted", "model_rejected", "model_pending_approval")
        return "model_outcome" if value["kind"] in outcomes else value["kind"]
    return "lambda_failure" if "requestContext" in value else None


AlertMessage = Annotated[
    Annotated[StepFailed, Tag("step_failed")]
    | Annotated[ConfigRejected, Tag("config_rejected")]
    | Annotated[TrainingOutcome, Tag("model_outcome")]
    | Annotated[ModelDecided, Tag("model_decided")]
    | Annotated[PredictionsLoaded, Tag("predictions_loaded")]
    | Annotated[DailyInferenceStale, Tag("daily_inference_stale")]
    | Annotated[DataDriftDetected, Tag("data_drift_detected")]
    | Annotated[ModelQualityMeasured, Tag("model_quality_measured")]
    | Annotated[SegmentsTrained, Tag("segments_trained")]
    | Annotated[LambdaFailure, Tag("lambda_failure")]
    | Annotated[EventRejected, Tag("event_rejected")]
    | Annotated[AlarmStateChanged, Tag("alarm_state_changed")]
    | Annotated[UnreadableMessage, Tag("unreadable")]
    | Annotated[FoldedRuns, Tag("folded_runs")],
    Discriminator(_kind_of),
]
alert_messages: TypeAdapter[Any] = TypeAdapter(AlertMessage)
