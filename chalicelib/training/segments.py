"""A model family: one config, one model per segment (docs/segments.md). The segments workflow's Lambda steps.

PlanSegments decides the segments (the config's values, or every value of the
column with enough rows) and names each segment's training run; the workflow's
Map trains them in parallel, each as a training run of its own (its own
registry group, versions, approved pointer and promotion decision).
SummarizeSegments reads how each ended into one table, one notice, and, for
the segments that failed, the next attempt a resume starts.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from chalicelib.config.parsing import read_config
from chalicelib.config.schema import MAX_SEGMENTS, ModelConfig, segment_model_name
from chalicelib.shared.messages import ConfigRef, SegmentOutcome, SegmentsTrained
from chalicelib.shared.naming import SEGMENT_RUN_PREFIX, execution_name
from chalicelib.shared.port_roles import TrainingPorts
from chalicelib.training.requests import PlanSegmentsStep, SummarizeSegmentsStep


class NoSegmentsError(ValueError):
    """The training table has no value of the segment column with enough rows."""


def plan_segments(request: PlanSegmentsStep, ports: TrainingPorts) -> dict[str, Any]:
    config = _config(ports, request.config)
    segments = config.segments
    if segments is None:
        raise ValueError(f"{request.config.uri} declares no segments: it trains one model through the training workflow")
    values = segments.values or checked(discovered_values(ports, config), config.model_name)
    items = [segment_item(request.run_id, config.model_name, value, attempt=1) for value in values]
    return {"segments": items, "max_concurrency": segments.max_concurrency, "column": segments.column}


def discovered_values(ports: TrainingPorts, config: ModelConfig) -> list[str]:
    """Every value of the segment column with at least min_rows rows, most rows first (the table is streamed once)."""
    if config.segments is None:
        return []
    column, counts = config.segments.column, Counter[str]()
    bucket, _, key = config.data.uri.removeprefix("s3://").partition("/")
    header: list[str] | None = None
    index = -1
    for _, row in _rows(ports.s3.table_lines(bucket, key)):
        if header is None or row == header:
            header, index = row, row.index(column) if column in row else -1
            if index < 0:
                raise NoSegmentsError(f"segments.column {column!r} is not a column of {config.data.uri}")
            continue
        if len(row) > index and row[index]:
            counts[row[index]] += 1
    values = [value for value, rows in counts.most_common() if rows >= config.segments.min_rows]
    if not values:
        raise NoSegmentsError(
            f"no value of {column} in {config.data.uri} has {config.segments.min_rows} rows or more "
            f"(most: {', '.join(f'{v} {n}' for v, n in counts.most_common(3)) or 'none'}): lower segments.min_rows or list segments.values"
        )
    return values


def checked(values: list[str], model_name: str) -> list[str]:
    """Values found in the table name their models as listed values do: a name each, valid and distinct, and few enough."""
    if len(values) > MAX_SEGMENTS:
        raise NoSegmentsError(f"{len(values)} values have segments.min_rows rows: a family has at most {MAX_SEGMENTS} segments "
                              "(one run's state carries them all); raise segments.min_rows or list segments.values")
    named: dict[str, str] = {}
    for value in values:
        model = segment_model_name(model_name, value)
        if model == f"{model_name}-" or len(model) > 48:
            raise NoSegmentsError(f"the value {value!r} cannot name a model ({model!r}): list segments.values without it")
        if model in named:
            raise NoSegmentsError(f"the values {named[model]!r} and {value!r} would name the same model {model!r}: "
                                  "list segments.values")
        named[model] = value
    return values


def segment_item(family_run_id: str, model_name: str, value: str, attempt: int) -> dict[str, Any]:
    """One Map item: the segment, its model, and the name of this attempt's training run."""
    model = segment_model_name(model_name, value)
    run_id = execution_name(SEGMENT_RUN_PREFIX, model, family_run_id, value, str(attempt))
    return {"value": value, "model_name": model, "run_id": run_id, "attempt": attempt, "status": "PENDING"}


def summarize_segments(request: SummarizeSegmentsStep, ports: TrainingPorts) -> dict[str, Any]:
    """How each segment ended; the failed ones get their next attempt, which `mlrelay runs resume` starts."""
    outcomes, following = [], []
    for item in request.segments:
        outcomes.append(_outcome(ports, item))
        if item.get("status") == "FAILED":
            following.append(segment_item(request.run_id, request.model_name, item["value"], int(item["attempt"]) + 1))
        else:
            following.append({**item, "status": "SUCCEEDED"})
    notice = SegmentsTrained(
        run_id=request.run_id, model_name=request.model_name, column=request.column, segments=outcomes,
        occurred_at=datetime.now(UTC),
    )
    failed = [o for o in outcomes if o.status == "Failed"]
    return {
        "segments": following, "max_concurrency": request.max_concurrency, "column": request.column,
        "failed": len(failed), "notification": notice.model_dump(mode="json"), "table": notice.table(),
    }


def _outcome(ports: TrainingPorts, item: dict[str, Any]) -> SegmentOutcome:
    if item.get("status") == "FAILED":
        return SegmentOutcome(value=item["value"], model_name=item["model_name"], run_id=item["run_id"], status="Failed",
                              detail=_cause(item))
    record = ports.models.version_for_run(item["model_name"], item["run_id"])
    if record is None:
        return SegmentOutcome(value=item["value"], model_name=item["model_name"], run_id=item["run_id"], status="Failed",
                              detail="the run succeeded but registered no version")
    decision = record.decision
    score = decision.get("candidate_score")
    metric = f"{decision.get('primary_metric')} {score:.4f}" if isinstance(score, int | float) else ""
    failed_rules = [r for r in decision.get("reasons", []) if str(r).startswith("✗")]
    return SegmentOutcome(value=item["value"], model_name=item["model_name"], run_id=item["run_id"], status=record.status,
                          version=record.version, detail="; ".join([metric, *failed_rules]).strip("; "))


def _cause(item: dict[str, Any]) -> str:
    """The child execution's error, without the JSON Step Functions wraps it in."""
    error, cause = str(item.get("error", "")), str(item.get("cause", ""))
    try:
        described = json.loads(cause)
    except ValueError:
        described = None
    if isinstance(described, dict):
        error = str(described.get("Error") or described.get("error") or error)
        cause = str(described.get("Cause") or described.get("cause") or "")
    return f"{error}: {cause}"[:300]


def _config(ports: TrainingPorts, ref: ConfigRef) -> ModelConfig:
    return read_config(ports.s3, ref.bucket, ref.key, ref.version_id)


def _rows(lines: Any) -> Any:
    for key, line in lines:
        if line.strip():
            yield key, next(csv.reader([line]))
