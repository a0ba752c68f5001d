"""A daily or monthly schedule fired: start one inference run per model that asks for it.

Run ids come from the model, the mode and the scheduled day (or month), so
a schedule delivered twice starts each run once: Step Functions refuses a
used execution name.
"""

from __future__ import annotations

from typing import Any

from chalicelib.aws.errors import AwsError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import MAX_CONFIG_BYTES, ConfigError, parse_config
from chalicelib.inference.requests import ScheduleFired
from chalicelib.shared.events import parsed_or_reported
from chalicelib.shared.messages import InferenceRequested
from chalicelib.shared.naming import scheduled_run_id
from chalicelib.shared.observability import logger
from chalicelib.shared.ports import Ports, aws_ports


def handle_inference_schedule(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parsed_or_reported(ScheduleFired, event, "on_inference_schedule", aws_ports())
    return start_scheduled_runs(parsed, aws_ports()) if parsed else {"outcome": "event_rejected"}


def start_scheduled_runs(fired: ScheduleFired, ports: Ports) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {"started": [], "already_started": [], "skipped": []}
    names = ports.models.model_names()
    wanting = {record.model_name for record in models_wanting(fired.mode, ports, names)}
    for model_name in names:
        if model_name not in wanting:
            outcome["skipped"].append(model_name)
            continue
        run_id = scheduled_run_id(model_name, fired.mode, fired.scheduled_for)
        request = InferenceRequested(run_id=run_id, model_name=model_name, mode=fired.mode, scheduled_for=fired.scheduled_for)
        started = ports.workflows.start(ports.inference_machine, run_id, request.model_dump(mode="json"))
        outcome["already_started" if started.already_existed else "started"].append(run_id)
    logger.info("inference schedule handled", extra={"mode": fired.mode, **{k: len(v) for k, v in outcome.items()}})
    return outcome


def models_wanting(mode: str, ports: Ports, names: list[str] | None = None) -> list[VersionRecord]:
    """The approved versions of the models (all, or `names`) whose config enables this schedule."""
    approved = [ports.models.approved(name) for name in (ports.models.model_names() if names is None else names)]
    return [record for record in approved if record is not None and _wants(record.config, mode, ports)]


def _wants(config_ref: dict[str, Any], mode: str, ports: Ports) -> bool:
    """Whether the config the approved model was trained from enables this schedule."""
    try:
        content = ports.s3.read(config_ref["bucket"], config_ref["key"], config_ref.get("version_id"), MAX_CONFIG_BYTES)
        config = parse_config(content.data, config_ref["key"])
    except (ConfigError, KeyError, AwsError) as err:  # one model's lost config must not stop the others
        logger.warning("cannot read the approved model's config; not scheduling it", extra={"error": str(err)})
        return False
    return bool(getattr(config.inference, mode))
