"""What both workflows ask of a SageMaker pipeline execution: its display name and client token."""

from __future__ import annotations

import hashlib
import json
import re

# Steps around the user's job (split, transform, evaluate; prepare, assemble) run on top of its own limit.
PIPELINE_OVERHEAD_SECONDS = 1800
_DISPLAY_UNSAFE = re.compile(r"[^a-zA-Z0-9-]+")


def pipeline_display_name(run_id: str) -> str:
    # Display names allow letters, digits and single hyphens, 82 characters.
    return re.sub("-+", "-", _DISPLAY_UNSAFE.sub("-", run_id)).strip("-")[:82]


def pipeline_client_token(pipeline: str, run_id: str, parameters: list[dict[str, str]]) -> str:
    """The same run with the same parameters starts the same execution of `pipeline`, however often the
    state is retried; a run resumed with a fixed config starts a new one (its cached steps are reused)."""
    canonical = json.dumps(parameters, sort_keys=True)
    # StartPipelineExecution's ClientRequestToken is at most 128 characters.
    return hashlib.sha256(f"{pipeline}-pipeline\x1f{run_id}\x1f{canonical}".encode()).hexdigest()[:64]


def pipeline_parameters(values: dict[str, str]) -> list[dict[str, str]]:
    """StartPipelineExecution's PipelineParameters (every value is a string there)."""
    return [{"Name": name, "Value": value} for name, value in values.items()]
