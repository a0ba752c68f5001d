"""Names of the stack's resources, read from the function's environment.

The values come from infra/resources.json (merged into the Chalice package on
AWS, applied by the embedded stack locally), so there is one source for both.
"""

from __future__ import annotations

import os


class SettingMissingError(RuntimeError):
    """An environment variable the function needs was not set by the stack."""


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SettingMissingError(
            f"environment variable {name} is not set; it is declared for each function in "
            "infra/resources.json - redeploy the stack or restart `mlrelay local up`"
        )
    return value


def stage() -> str:
    return os.environ.get("MLRELAY_STAGE", "dev")


def idempotency_table() -> str:
    return _required("IDEMPOTENCY_TABLE")


def failures_queue_url() -> str:
    return _required("FAILURES_QUEUE_URL")


def training_state_machine_arn() -> str:
    return _required("TRAINING_STATE_MACHINE_ARN")


def artifact_bucket() -> str:
    return _required("ARTIFACT_BUCKET")


def models_table() -> str:
    return _required("MODELS_TABLE")


def pipeline_callbacks_table() -> str:
    return _required("PIPELINE_CALLBACKS_TABLE")
