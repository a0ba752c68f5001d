"""A daily or monthly schedule fired: start one inference run per model that asks for it.

Run ids come from the model, the mode and the scheduled day (or month), so
a schedule delivered twice starts each run once: Step Functions refuses a
used execution name.

The models of a family (segments) run their daily inference at their own
local hour instead: an hourly tick starts the daily run of each segment whose
time zone has just reached segments.daily_hour, named by its local date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.aws.errors import AwsError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import ConfigError, read_config
from chalicelib.config.schema import ModelConfig
from chalicelib.inference.requests import ScheduleFired
from chalicelib.shared.events import parsed_or_reported
from chalicelib.shared.messages import InferenceRequested
from chalicelib.shared.naming import scheduled_run_id
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import InferencePorts
from chalicelib.shared.ports import aws_ports


def handle_inference_schedule(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parsed_or_reported(ScheduleFired, event, "on_inference_schedule", aws_ports())
    return start_scheduled_runs(parsed, aws_ports()) if parsed else {"outcome": "event_rejected"}


def start_scheduled_runs(fired: ScheduleFired, ports: InferencePorts) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {"started": [], "already_started": [], "skipped": []}
    names = ports.models.model_names()
    hourly = fired.mode == "hourly"  # the hourly tick concerns segments only: no other model's config is read
    wanting = {record.model_name: (record, config) for record, config in _approved_wanting(
        "daily" if hourly else fired.mode, ports, names, segments_only=hourly)}
    for model_name in names:
        due = _due(fired, *wanting[model_name]) if model_name in wanting else None
        if due is None:
            outcome["skipped"].append(model_name)
            continue
        mode, scheduled_for = due
        run_id = scheduled_run_id(model_name, mode, scheduled_for)
        request = InferenceRequested(run_id=run_id, model_name=model_name, mode=mode, scheduled_for=scheduled_for)
        started = ports.workflows.start(ports.inference_machine, run_id, request.model_dump(mode="json"))
        outcome["already_started" if started.already_existed else "started"].append(run_id)
    logger.info("inference schedule handled", extra={"mode": fired.mode, **{k: len(v) for k, v in outcome.items()}})
    return outcome


def _due(fired: ScheduleFired, record: VersionRecord, config: ModelConfig) -> tuple[str, datetime] | None:
    """(mode, scheduled_for) if this tick starts the model's run. A segment's daily run is due at its local hour, and
    takes its local date; the stage's daily schedule leaves segments to the hourly tick."""
    segment = record.config.get("segment")
    if fired.mode == "monthly":
        return fired.mode, fired.scheduled_for
    if not segment or config.segments is None:
        return (fired.mode, fired.scheduled_for) if fired.mode == "daily" else None
    if fired.mode != "hourly":
        return None
    local = fired.scheduled_for.astimezone(ZoneInfo(config.segments.timezone_of(segment["value"])))
    return ("daily", local) if local.hour == config.segments.daily_hour else None


def models_wanting(mode: str, ports: InferencePorts, names: list[str] | None = None) -> list[VersionRecord]:
    """The approved versions of the models (all, or `names`) whose config enables this schedule."""
    return [record for record, _ in _approved_wanting(mode, ports, names)]


def _approved_wanting(
    mode: str, ports: InferencePorts, names: list[str] | None = None, segments_only: bool = False,
) -> list[tuple[VersionRecord, ModelConfig]]:
    approved = [ports.models.approved(name) for name in (ports.models.model_names() if names is None else names)]
    found = []
    for record in approved:
        if record is None or (segments_only and not record.config.get("segment")):
            continue
        config = _config(record.config, ports)
        if config is not None and getattr(config.inference, mode):
            found.append((record, config))
    return found


def _config(config_ref: dict[str, Any], ports: InferencePorts) -> ModelConfig | None:
    """The config the approved model was trained from (None, logged, when it cannot be read)."""
    try:
        return read_config(ports.s3, config_ref["bucket"], config_ref["key"], config_ref.get("version_id"))
    except (ConfigError, KeyError, AwsError) as err:  # one model's lost config must not stop the others
        logger.warning("cannot read the approved model's config; not scheduling it", extra={"error": str(err)})
        return None
