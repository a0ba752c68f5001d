"""What people read when something happens: pure functions from a message to an alert.

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
from dataclasses import dataclass, field
from typing import Any

SLACK_TEXT_LIMIT = 3000
SNS_SUBJECT_LIMIT = 100
SNS_BODY_LIMIT = 64 * 1024
CAUSE_EXCERPT_CHARS = 1500


@dataclass(frozen=True)
class Alert:
    collapse_key: str  # repeats of the same failure of the same run share it
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
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(a, SLACK_TEXT_LIMIT)} for a in self.actions[:10]]})
        return {"text": _cut(self.title, SLACK_TEXT_LIMIT), "blocks": blocks}

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


def alert_for(message: dict[str, Any], region: str) -> Alert:
    """The alert for one message from the failures or notifications queue."""
    if "requestContext" in message and "responsePayload" in message:
        return _lambda_failed(message, region)
    kind = message.get("kind")
    builder = _BUILDERS.get(str(kind))
    if builder is None:
        return _unknown(message)
    return builder(message, region)


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


def _step_failed(message: dict[str, Any], region: str) -> Alert:
    workflow, run_id = message.get("workflow", "workflow"), message.get("run_id", "?")
    state = message.get("state") or "a step"
    execution = message.get("execution_arn", "")
    return Alert(
        collapse_key=f"failed|{workflow}|{run_id}|{state}|{message.get('error')}",
        title=f"❌ {workflow} run failed at {state}",
        fields=[
            ("Model", message.get("model_name", "?")),
            ("Run", run_id),
            ("Step", state),
            ("Error", message.get("error", "?")),
            ("When", message.get("occurred_at", "?")),
        ],
        detail=cause_excerpt(message.get("cause")),
        actions=[f"Resume from the failed step: `mlrelay runs resume {run_id}`"]
        + ([f"Execution: {_console_link(execution, region)}"] if execution else []),
    )


def _config_rejected(message: dict[str, Any], region: str) -> Alert:
    config = message.get("config", {})
    problems = message.get("problems", [])
    shown = "\n".join(f"{p.get('path') or '(file)'}: {p.get('message')}" for p in problems)
    more = message.get("problem_count", len(problems)) - len(problems)
    return Alert(
        collapse_key=f"rejected|{config.get('key')}|{config.get('version_id')}",
        title=f"⚠️ {message.get('workflow', 'training')} config rejected: {config.get('key', '?')}",
        fields=[("File", f"s3://{config.get('bucket')}/{config.get('key')}"), ("Problems", str(message.get("problem_count", len(problems))))],
        detail=shown + (f"\n… and {more} more" if more > 0 else ""),
        actions=[f"Full report: {message.get('report_uri')}", "Check locally: `mlrelay config validate FILE`, then upload again"],
    )


def _model_outcome(message: dict[str, Any], region: str) -> Alert:
    promoted = message.get("kind") == "model_promoted"
    metric = message.get("primary_metric", "metric")
    deltas = ", ".join(f"{k} {v:+.4f}" for k, v in message.get("deltas", {}).items()) or "first model"
    return Alert(
        collapse_key=f"{message.get('kind')}|{message.get('run_id')}",
        title=f"{'✅' if promoted else '🚫'} {message.get('model_name')} v{message.get('version')} "
        f"{'promoted' if promoted else 'rejected'}",
        fields=[
            (metric, f"{message.get('score', 0):.4f}" + (f" (approved: {message['baseline_score']:.4f})" if message.get("baseline_score") is not None else "")),
            ("Changes", deltas),
            ("Run", message.get("run_id", "?")),
        ],
        detail="\n".join(message.get("reasons", [])),
        actions=[f"Registry: `mlrelay models show {message.get('model_name')}`"],
    )


def _predictions_loaded(message: dict[str, Any], region: str) -> Alert:
    classes = ", ".join(f"{k} {v:,}" for k, v in message.get("per_class", {}).items())
    far = bool(message.get("far_from_previous"))
    rows = f"{message.get('rows_loaded', 0):,} {message.get('mode')} predictions loaded for {message.get('model_name')}"
    previous = message.get("previous_rows")
    return Alert(
        collapse_key=f"loaded|{message.get('run_id')}",
        title=(f"⚠️ {rows}: far from the previous run's {previous:,}" if far else f"📦 {rows}"),
        fields=[("Table", message.get("table", "?")), ("Model version", f"v{message.get('model_version')}"), ("Run", message.get("run_id", "?"))]
        + ([("Previous run", f"{previous:,} rows")] if previous is not None else []),
        detail=classes,
        actions=["Check the catalogue's new items and the model's input before trusting these"] if far else [],
    )


def _lambda_failed(message: dict[str, Any], region: str) -> Alert:
    """An asynchronous invocation (a trigger) that failed after its retries: Lambda's destination record."""
    context, response = message.get("requestContext", {}), message.get("responsePayload") or {}
    function = str(context.get("functionArn", "?")).split(":function:")[-1].split(":")[0]
    return Alert(
        collapse_key=f"lambda|{function}|{context.get('requestId')}",
        title=f"❌ {function} failed after {context.get('approximateInvokeCount', '?')} attempts",
        fields=[("Function", function), ("Error", str(response.get("errorType", "?"))), ("When", str(message.get("timestamp", "?")))],
        detail=cause_excerpt(json.dumps(response)) + "\n\nevent: " + _cut(json.dumps(message.get("requestPayload"), default=str), 1000),
        actions=[f"Logs: /aws/lambda/{function}", "Fix the cause, then deliver the event again (it is above)"],
    )


def _daily_stale(message: dict[str, Any], region: str) -> Alert:
    model, last = message.get("model_name", "?"), message.get("last_success")
    return Alert(
        collapse_key=f"stale|{model}|{str(message.get('checked_at', ''))[:10]}",  # once a day per model
        title=f"⏰ no daily predictions for {model} in over 36 hours",
        fields=[("Model", model), ("Last successful daily run", last or "never"), ("Checked", str(message.get("checked_at", "?")))],
        detail="",
        actions=["Recent runs: `mlrelay runs list`", "Check the daily schedule rule is enabled and its last run's alert"],
    )


def _unknown(message: dict[str, Any]) -> Alert:
    text = json.dumps(message, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Alert(collapse_key=f"unknown|{digest}", title="❓ mlrelay message of an unknown kind", fields=[], detail=_cut(text, CAUSE_EXCERPT_CHARS))


def _console_link(execution_arn: str, region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BUILDERS = {
    "step_failed": _step_failed,
    "config_rejected": _config_rejected,
    "model_promoted": _model_outcome,
    "model_rejected": _model_outcome,
    "predictions_loaded": _predictions_loaded,
    "daily_inference_stale": _daily_stale,
}
