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


def cli_command() -> str:
    """How people reach this stack from a terminal: `mlrelay --stage <stage>`; plain `mlrelay` on the embedded
    stack, which the CLI talks to when given no stage."""
    return "mlrelay" if os.environ.get("MLRELAY_EMBEDDED_STACK") else f"mlrelay --stage {stage()}"


def preflight_timeout_seconds() -> float:
    """How long the trigger's checks of a config's table and code may take before it refuses the config."""
    return float(os.environ.get("PREFLIGHT_TIMEOUT_SECONDS", "10"))


def idempotency_table() -> str:
    return _required("IDEMPOTENCY_TABLE")


def failures_queue_url() -> str:
    return _required("FAILURES_QUEUE_URL")


def folded_runs_delay_seconds() -> int:
    """How long after a run folds into an earlier post the post naming it goes out: the fold window, which SQS's
    longest delay (900 s) also is; the functional tests shorten it."""
    return min(900, int(os.environ.get("FOLDED_RUNS_DELAY_SECONDS", "900")))


def training_state_machine_arn() -> str:
    return _required("TRAINING_STATE_MACHINE_ARN")


def inference_state_machine_arn() -> str:
    return _required("INFERENCE_STATE_MACHINE_ARN")


def segments_state_machine_arn() -> str:
    return _required("SEGMENTS_STATE_MACHINE_ARN")


def deploy_state_machine_arn() -> str:
    return _required("DEPLOY_STATE_MACHINE_ARN")


def training_pipeline_name() -> str:
    """The stack's base training pipeline; runs use copies of it with their hyperparameters."""
    return _required("TRAINING_PIPELINE_NAME")


def inference_pipeline_name() -> str:
    return _required("INFERENCE_PIPELINE_NAME")


def quality_pipeline_name() -> str:
    return _required("QUALITY_PIPELINE_NAME")


def artifact_bucket() -> str:
    return _required("ARTIFACT_BUCKET")


def models_table() -> str:
    return _required("MODELS_TABLE")


def pipeline_callbacks_table() -> str:
    return _required("PIPELINE_CALLBACKS_TABLE")


def warehouse_connection() -> dict[str, str]:
    """Database plus exactly one way in: a Serverless workgroup, or a cluster with a secret or a db user."""
    connection = {"Database": _required("REDSHIFT_DATABASE")}
    workgroup = os.environ.get("REDSHIFT_WORKGROUP")
    cluster = os.environ.get("REDSHIFT_CLUSTER_ID")
    if bool(workgroup) == bool(cluster):
        raise SettingMissingError(
            "set exactly one of REDSHIFT_WORKGROUP (Serverless) and REDSHIFT_CLUSTER_ID (provisioned): "
            "the RedshiftWorkgroup and RedshiftClusterIdentifier parameters in infra/parameters/<stage>.json"
        )
    if workgroup:
        connection["WorkgroupName"] = workgroup
    else:
        connection["ClusterIdentifier"] = cluster  # type: ignore[assignment]
    secret, user = os.environ.get("REDSHIFT_SECRET_ARN"), os.environ.get("REDSHIFT_DB_USER")
    if secret:
        connection["SecretArn"] = secret
    elif user:
        connection["DbUser"] = user
    elif cluster:
        raise SettingMissingError("a cluster needs REDSHIFT_SECRET_ARN or REDSHIFT_DB_USER (temporary credentials)")
    return connection


def copy_role_arn() -> str:
    return _required("REDSHIFT_COPY_ROLE_ARN")


def predictions_table() -> tuple[str, str]:
    return _required("PREDICTIONS_SCHEMA"), _required("PREDICTIONS_TABLE")


def runs_table() -> str:
    return _required("RUNS_TABLE")


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def alerts_table() -> str:
    return _required("ALERTS_TABLE")


def alerts_topic_arn() -> str:
    return _required("ALERTS_TOPIC_ARN")


def slack_webhook_parameter() -> str:
    return _required("SLACK_WEBHOOK_PARAMETER")


def slack_min_interval_seconds() -> float:
    """Spacing between Slack posts from one container; Slack allows about one message a second."""
    return float(os.environ.get("SLACK_MIN_INTERVAL_SECONDS", "1.0"))


def notifications_queue_url() -> str:
    return _required("NOTIFICATIONS_QUEUE_URL")


def model_job_policy_arn() -> str:
    """The managed policy every model role has, as its permissions and as its permissions boundary."""
    return _required("MODEL_JOB_POLICY_ARN")
