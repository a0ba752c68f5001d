"""What people read when something happens: pure functions from a typed message to an alert.

One alert per message, in two forms: Slack Block Kit and plain text for SNS
(email). Failures say what failed (workflow, model, step), why (the most
useful part of the cause), when, where to look, and the command that resumes
the run. Sizes respect the channels' limits: a Slack text object holds at most
3,000 characters and a message 50 blocks; an SNS subject 100 characters and a
message 256 KiB (we stay far below).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.shared.messages import (
    AlarmStateChanged,
    ConfigRejected,
    DailyInferenceStale,
    DataDriftDetected,
    EventRejected,
    FoldedRuns,
    LambdaFailure,
    ModelDecided,
    ModelQualityMeasured,
    PredictionsLoaded,
    SegmentsTrained,
    StepFailed,
    TrainingOutcome,
    UnreadableMessage,
)
from chalicelib.shared.runs import INTERRUPTED_ERROR

SLACK_TEXT_LIMIT = 3000
SNS_SUBJECT_LIMIT = 100
SNS_BODY_LIMIT = 64 * 1024
CAUSE_EXCERPT_CHARS = 1500
FOLDED_RUNS_SHOWN = 20  # runs a post names one by one; the rest are counted


@dataclass(frozen=True)
class Alert:
    collapse_key: str  # identical failures share it: the same workflow, model, step and error (or function and error)
    title: str
    fields: list[tuple[str, str]]
    detail: str  # the why: an error excerpt, the reasons, the problems
    actions: list[str] = field(default_factory=list)  # commands and links

    def slack(self) -> dict[str, Any]:
        facts = "\n".join(f"*{name}:* {value}" for name, value in self.fields)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(self.title, 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(facts, SLACK_TEXT_LIMIT)}},
        ]
        if self.detail:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"```{self.detail}```", SLACK_TEXT_LIMIT)}})
        if self.actions:
            elements = [{"type": "mrkdwn", "text": _cut(action, SLACK_TEXT_LIMIT)} for action in self.actions[:10]]
            blocks.append({"type": "context", "elements": elements})
        return {"text": _cut(self.title, SLACK_TEXT_LIMIT), "blocks": blocks}

    def repeated(self, count: int, first: int, last: int) -> Alert:
        """This alert as a storm's summary: how often it happened in the window, first and last time."""

        def at(seconds: int) -> str:
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return replace(
            self, title=f"{self.title} ×{count}",
            fields=[*self.fields, ("Repeats", f"{count:,} times, first {at(first)}, last {at(last)} (identical failures fold)")],
        )

    def sns_subject(self) -> str:
        # SNS subjects are ASCII without line breaks.
        ascii_title = self.title.encode("ascii", "ignore").decode().replace("\n", " ").strip()
        return ascii_title if len(ascii_title) <= SNS_SUBJECT_LIMIT else ascii_title[: SNS_SUBJECT_LIMIT - 3] + "..."

    def sns_body(self) -> str:
        lines = [self.title, ""] + [f"{name}: {value}" for name, value in self.fields]
        if self.detail:
            lines += ["", self.detail]
        if self.actions:
            lines += [""] + self.actions
        return _cut("\n".join(lines), SNS_BODY_LIMIT)


def alert_for(message: Any, region: str, cli: str = "mlrelay") -> Alert:
    """The alert for one message from the failures or notifications queue (an AlertMessage).

    `cli` is how people reach this stack from a terminal (`mlrelay --stage prod` for a deployed one), so
    every command an alert prints works as printed.
    """
    builder: Callable[[Any, str], Alert] = _BUILDERS[type(message)]
    alert = builder(message, region)
    return replace(alert, actions=[action.replace("`mlrelay ", f"`{cli} ") for action in alert.actions])


_PIPELINE_STEP = re.compile(r"\bstep (?P<step>[A-Za-z][A-Za-z0-9-]*): ")


def cause_excerpt(cause: str | None) -> str:
    """The part of a cause worth reading: a Lambda's errorMessage, a step's own reason."""
    if not cause:
        return "(no cause given)"
    text = cause.strip()
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        text = f"{parsed.get('errorType', 'Error')}: {parsed['errorMessage']}"
    return _cut(text, CAUSE_EXCERPT_CHARS)


def _step_failed(message: StepFailed, region: str) -> Alert:
    run_id = message.run_id
    return Alert(
        collapse_key=f"failed|{message.workflow}|{message.model_name}|{message.state}|{message.error}",
        title=(f"⏸ {message.workflow} run interrupted at {message.state}" if message.error == INTERRUPTED_ERROR
               else f"❌ {message.workflow} run failed at {message.state}"),
        fields=[
            ("Model", message.model_name),
            ("Run", run_id),
            ("Step", message.state),
            ("Error", message.error),
            ("When", _iso(message.occurred_at)),
        ],
        detail=cause_excerpt(message.cause),
        actions=[_resume_action(message), *_step_log_action(message)]
        + ([f"Execution: {_console_link(message.execution_arn, region)}"] if message.execution_arn else []),
    )


def _resume_action(message: StepFailed) -> str:
    """A failure of the team's code or data reruns the same way: fix first, then resume with the fix. Anything else
    (a throttled call, a stopped stack) resumes as it is."""
    if "AlgorithmError" in f"{message.error} {message.cause or ''}":
        return (f"Fix the code or config, then resume from the failed step with it: "
                f"`mlrelay runs resume {message.run_id} --with-config MODEL_FOLDER_OR_CONFIG` "
                f"(a table fixed where it is: `mlrelay runs resume {message.run_id}` reads it again)")
    return f"Resume from the failed step: `mlrelay runs resume {message.run_id}`"


def _step_log_action(message: StepFailed) -> list[str]:
    """Where a failed pipeline step's whole log is, when the cause names the step (`step Train: ...`)."""
    step = _PIPELINE_STEP.search(message.cause or "")
    return [f"Step log: `mlrelay runs logs {message.run_id} --step {step['step']}`"] if step else []


def _folded_runs(message: FoldedRuns, region: str) -> Alert:
    shown = message.runs[:FOLDED_RUNS_SHOWN]
    more = len(message.runs) - len(shown)
    plural = "s" if len(message.runs) != 1 else ""
    return Alert(
        collapse_key=f"named|{message.collapse_key}",
        title=f"❌ {len(message.runs)} more {message.workflow} run{plural} failed at {message.state}",
        fields=[("Model", message.model_name), ("Step", message.state), ("Error", message.error), ("Runs", str(len(message.runs)))],
        detail="Each failed as the earlier alert of this failure tells: " + ", ".join(shown)
        + (f" and {more} more (`mlrelay runs list`)" if more else ""),
        actions=[f"Resume: `mlrelay runs resume {run}`" for run in shown],
    )


def _config_rejected(message: ConfigRejected, region: str) -> Alert:
    config = message.config
    shown = "\n".join(f"{p.path or '(file)'}: {p.message}" for p in message.problems)
    more = message.problem_count - len(message.problems)
    return Alert(
        collapse_key=f"rejected|{config.key}|{config.version_id}",
        title=f"⚠️ {message.workflow} config rejected: {config.key}",
        fields=[("File", config.uri), ("Problems", str(message.problem_count))],
        detail=shown + (f"\n… and {more} more" if more > 0 else ""),
        actions=[f"Full report: {message.report_uri}", "Check locally: `mlrelay config validate FILE`, then upload again"],
    )


def _model_outcome(message: TrainingOutcome, region: str) -> Alert:
    if message.kind == "model_pending_approval":
        return _pending_approval(message)
    promoted = message.kind == "model_promoted"
    deltas = ", ".join(f"{k} {v:+.4f}" for k, v in message.deltas.items()) or "first model"
    baseline = f" (approved: {message.baseline_score:.4f})" if message.baseline_score is not None else ""
    return Alert(
        collapse_key=f"{message.kind}|{message.run_id}",
        title=f"{'✅' if promoted else '🚫'} {message.model_name} v{message.version} {'promoted' if promoted else 'rejected'}",
        fields=[(message.primary_metric, f"{message.score:.4f}{baseline}"), ("Changes", deltas), ("Run", message.run_id)],
        detail="\n".join(message.reasons),
        actions=[f"Registry: `mlrelay models show {message.model_name}`"],
    )


def _pending_approval(message: TrainingOutcome) -> Alert:
    """approval.mode manual: the candidate passed the rules; a person decides."""
    name, version = message.model_name, message.version
    versus = (f"{message.score:.4f} against {message.baseline_score:.4f} for the approved v{message.baseline_version}"
              if message.baseline_score is not None else f"{message.score:.4f} (no approved version yet)")
    return Alert(
        collapse_key=f"{message.kind}|{message.run_id}",
        title=f"⏳ {name} v{version} awaits your decision",
        fields=[(message.primary_metric, versus), ("Run", message.run_id)],
        detail="\n".join(message.reasons),
        actions=[f"Approve: `mlrelay models approve {name} {version} --reason \"...\"`",
                 f"Reject: `mlrelay models reject {name} {version} --reason \"...\"`",
                 f"Compare: `mlrelay models show {name}`"],
    )


def _model_decided(message: ModelDecided, region: str) -> Alert:
    verb = {"approve": "approved", "reject": "rejected", "rollback": "rolled back to"}[message.action]

    def shown(version: int | None) -> str:
        return f"v{version}" if version is not None else "none"
    return Alert(
        collapse_key=f"decided|{message.model_name}|{message.action}|{message.version}|{message.occurred_at.isoformat()}",
        title=f"{'↩️' if message.action == 'rollback' else '🧑‍⚖️'} {message.model_name} {verb} v{message.version} by hand",
        fields=[("By", message.actor), ("In use", f"{shown(message.approved_before)} → {shown(message.approved_after)}"),
                ("Via", "mlrelay models" if message.source == "mlrelay" else "the SageMaker registry")],
        detail=message.reason,
        actions=[f"History: `mlrelay models show {message.model_name}`"],
    )


def _predictions_loaded(message: PredictionsLoaded, region: str) -> Alert:
    classes = ", ".join(f"{k} {v:,}" for k, v in message.per_class.items())
    if message.values:
        classes = f"predicted values from {message.values['min']:,.3f} to {message.values['max']:,.3f} (mean {message.values['mean']:,.3f})"
    rows = f"{message.rows_loaded:,} {message.mode} predictions loaded for {message.model_name}"
    previous = message.previous_rows
    return Alert(
        collapse_key=f"loaded|{message.run_id}",
        title=f"⚠️ {rows}: far from the previous run's {previous:,}" if message.far_from_previous and previous is not None
        else f"📦 {rows}",
        fields=[("Table", message.table), ("Model version", f"v{message.model_version}"), ("Run", message.run_id)]
        + ([("Previous run", f"{previous:,} rows")] if previous is not None else []),
        detail=classes,
        actions=["Check the catalogue's new items and the model's input before trusting these"] if message.far_from_previous else [],
    )


def _data_drift(message: DataDriftDetected, region: str) -> Alert:
    lines = [f"{f.feature}: {f.check.replace('_check', '').replace('_', ' ')}, {f.detail}" for f in message.features]
    if message.ndcg is not None:
        verdict = "ranking holds"
        if message.attribution_drift:
            verdict = f"below {message.ndcg_threshold:g}: the model leans on other features now"
        lines.append(f"SHAP ranking NDCG {message.ndcg:.3f} ({verdict})")
        lines.append(f"  training: {', '.join(message.top_features_training)}; now: {', '.join(message.top_features_now)}")
    outcome = "predictions loaded anyway (monitoring.on_violation: warn)"
    if not message.loaded:
        outcome = "nothing loaded (monitoring.on_violation: block)"
    what = f"{message.violations} violation(s)" if message.violations else "attribution drift"
    return Alert(
        collapse_key=f"drift|{message.run_id}",
        title=f"⚠️ {message.model_name} v{message.model_version}: {what} in the {message.mode} run's {message.rows:,} items",
        fields=[("Model", f"{message.model_name} v{message.model_version}"), ("Run", message.run_id), ("Outcome", outcome),
                ("Report", message.report_uri)],
        detail="\n".join(lines),
        actions=[f"Drift table and report: `mlrelay monitor show {message.run_id}`",
                 "Retrain on recent data if the catalogue has moved for good (drop the config again)"],
    )


def _model_quality(message: ModelQualityMeasured, region: str) -> Alert:
    was = f", {message.training_value:.4f} at training" if message.training_value is not None else ""
    verdict = "dropped" if message.dropped else "holds"
    actions = [f"Metrics document: {message.metrics_uri}"]
    if message.retraining_run_id:
        actions.insert(0, f"Retraining started (monitoring.retrain_on_quality_drop): run {message.retraining_run_id}")
    elif message.dropped:
        actions.insert(0, "Retrain on recent data (drop the config again), or set monitoring.retrain_on_quality_drop")
    return Alert(
        collapse_key=f"quality|{message.run_id}",
        title=f"{'📉' if message.dropped else '✅'} {message.model_name} v{message.model_version}: quality {verdict} on "
        f"{message.matched_rows:,} labelled items ({message.metric} {message.value:.4f}{was})",
        fields=[("Model", f"{message.model_name} v{message.model_version}"), ("Run", message.run_id),
                ("Labels", f"{message.matched_rows:,} of {message.labelled_rows:,} matched a prediction")],
        detail="\n".join(message.reasons),
        actions=actions,
    )


def _segments_trained(message: SegmentsTrained, region: str) -> Alert:
    counts = message.counts()
    summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items(), key=lambda item: -item[1]))
    return Alert(
        collapse_key=f"segments|{message.run_id}",
        title=f"🧩 {message.model_name}: {len(message.segments)} segments by {message.column} trained ({summary})",
        fields=[("Model family", message.model_name), ("Run", message.run_id)],
        detail=message.table(),
        actions=[f"Each segment's versions: `mlrelay models list` ({message.model_name}-<segment>)"],
    )


def _lambda_failed(message: LambdaFailure, region: str) -> Alert:
    """An asynchronous invocation (a trigger) that failed after its retries: Lambda's destination record."""
    context, response = message.requestContext, message.responsePayload or {}
    function = message.function_name
    return Alert(
        collapse_key=f"lambda|{function}|{response.get('errorType', '')}",
        title=f"❌ {function} failed after {context.approximateInvokeCount} attempts",
        fields=[("Function", function), ("Error", str(response.get("errorType", "(none given)"))), ("When", message.timestamp)],
        detail=cause_excerpt(json.dumps(response)) + "\n\nevent: " + _cut(json.dumps(message.requestPayload, default=str), 1000),
        actions=[f"Logs: /aws/lambda/{function}", "Fix the cause, then deliver the event again (it is above)"],
    )


def _event_rejected(message: EventRejected, region: str) -> Alert:
    return Alert(
        collapse_key=f"event|{message.function}|{message.expected}",
        title=f"❌ {message.function} got an event it cannot read",
        fields=[("Function", message.function), ("Expected", message.expected), ("When", _iso(message.occurred_at))],
        detail="\n".join(message.problems) + "\n\nevent: " + _cut(message.event_excerpt, 1000),
        actions=["Not retried: it would fail the same way. Check what sends these events (the rule's pattern and target)",
                 f"Logs: /aws/lambda/mlrelay-<stage>-{message.function}"],
    )


def _daily_stale(message: DailyInferenceStale, region: str) -> Alert:
    last = _iso(message.last_success) if message.last_success else "never"
    return Alert(
        collapse_key=f"stale|{message.model_name}|{message.checked_at.date().isoformat()}",  # once a day per model
        title=f"⏰ no daily predictions for {message.model_name} in over 36 hours",
        fields=[("Model", message.model_name), ("Last successful daily run", last), ("Checked", _iso(message.checked_at))],
        detail="",
        actions=["Recent runs: `mlrelay runs list`", "Check the daily schedule rule is enabled and its last run's alert"],
    )


def _alarm(message: AlarmStateChanged, region: str) -> Alert:
    detail = message.detail
    description = str(detail.configuration.get("description", ""))
    return Alert(
        collapse_key=f"alarm|{detail.alarmName}|{detail.state.value}",
        title=f"🚨 alarm {detail.alarmName}: {detail.state.value}",
        fields=[("Alarm", detail.alarmName), ("Since", _iso(message.time)),
                ("Was", detail.previousState.value if detail.previousState else "(unknown)")],
        detail="\n".join(part for part in (description, detail.state.reason) if part),
        actions=[f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{detail.alarmName}"],
    )


def _unreadable(message: UnreadableMessage, region: str) -> Alert:
    digest = hashlib.sha256(message.body.encode()).hexdigest()[:16]
    return Alert(
        collapse_key=f"unreadable|{digest}",
        title="❓ an mlrelay message that the alerts function cannot read",
        fields=[("Problems", "; ".join(message.problems)[:500])],
        detail=_cut(message.body, CAUSE_EXCERPT_CHARS),
        actions=["Whatever sent this is out of step with chalicelib/shared/messages.py: please report it"],
    )


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z") if hasattr(moment, "isoformat") else str(moment)


def _console_link(execution_arn: str, region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BUILDERS: dict[type, Callable[[Any, str], Alert]] = {
    StepFailed: _step_failed,
    FoldedRuns: _folded_runs,
    ConfigRejected: _config_rejected,
    TrainingOutcome: _model_outcome,
    ModelDecided: _model_decided,
    PredictionsLoaded: _predictions_loaded,
    DailyInferenceStale: _daily_stale,
    DataDriftDetected: _data_drift,
    ModelQualityMeasured: _model_quality,
    SegmentsTrained: _segments_trained,
    LambdaFailure: _lambda_failed,
    EventRejected: _event_rejected,
    UnreadableMessage: _unreadable,
    AlarmStateChanged: _alarm,
}
