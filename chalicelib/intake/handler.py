"""Carry out the decision for a config dropped under configs/train/ or configs/infer/, or labels under labels/.

Deduplication has two lines: Powertools idempotency keyed on the object
version (bucket, key, version id, ETag) in DynamoDB, then the deterministic
execution name, which Step Functions refuses to reuse.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from chalicelib.aws.clients import cached, client
from chalicelib.aws.errors import NotFoundError
from chalicelib.config.parsing import MAX_CONFIG_BYTES
from chalicelib.intake.plan import (
    LABELS_PREFIX,
    DroppedObject,
    RejectConfig,
    StartInference,
    StartTraining,
    crash_report,
    plan_config_drop,
    plan_labels_drop,
    rejection,
    should_ignore,
)
from chalicelib.intake.preflight import preflight_problems
from chalicelib.shared import settings
from chalicelib.shared.event_models import S3ObjectCreatedEvent
from chalicelib.shared.events import parsed_or_reported
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import IntakePorts
from chalicelib.shared.ports import aws_ports

# S3 and EventBridge redeliver within minutes; a day covers that with margin,
# and the execution name covers anything later.
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[bucket, key, version_id, etag]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,
)
# The key would otherwise include this module's path: a fixed prefix keeps it across refactors.
IDEMPOTENCY_KEY_PREFIX = "mlrelay-config-drop"


def handle_config_dropped(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parsed_or_reported(S3ObjectCreatedEvent, event, "on_config_dropped", aws_ports())
    if parsed is None:
        return {"outcome": "event_rejected"}
    dropped = dropped_object_from(parsed)
    ignored = should_ignore(dropped)
    if ignored:
        logger.info("ignoring object", extra={"key": dropped.key, "reason": ignored.reason})
        return {"outcome": "ignored", "reason": ignored.reason}
    IDEMPOTENCY.register_lambda_context(context)
    try:
        return _idempotent_process()(dropped=dropped, ports=aws_ports())
    except IdempotencyAlreadyInProgressError:
        # Another delivery of this same object version is being handled now.
        logger.info("duplicate delivery while in progress", extra={"key": dropped.key})
        return {"outcome": "duplicate_in_progress"}
    except Exception as err:
        _report_crash(dropped, err, aws_ports())
        raise


def _report_crash(dropped: DroppedObject, error: Exception, ports: IntakePorts) -> None:
    """Beside the upload, say the trigger failed on it, so that the person waiting hears it in seconds."""
    key, report = crash_report(dropped, error)
    try:
        ports.s3.put_json(dropped.bucket, key, report)
    except Exception as unreported:  # the original error is the one Lambda must see
        logger.warning("cannot write the crash report", extra={"key": key, "error": str(unreported)})


def dropped_object_from(event: S3ObjectCreatedEvent) -> DroppedObject:
    s3_object = event.detail.object
    return DroppedObject(
        bucket=event.detail.bucket.name,
        key=s3_object.key,
        version_id=s3_object.version_id,
        etag=s3_object.etag,
        size=int(s3_object.size or 0),
        event_time=event.time,
    )


@cached
def _idempotent_process() -> Any:
    # Built on first use, not at import: the persistence layer needs a client.
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table(), boto3_client=client("dynamodb"))
    return idempotent_function(
        data_keyword_argument="dropped", persistence_store=store, config=IDEMPOTENCY, key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )(process_dropped_config)


def process_dropped_config(dropped: DroppedObject, ports: IntakePorts) -> dict[str, Any]:
    if dropped.key.startswith(LABELS_PREFIX):
        return _carry_out(plan_labels_drop(dropped), dropped, ports)  # the quality pipeline reads the file
    try:
        content = ports.s3.read(dropped.bucket, dropped.key, dropped.version_id, MAX_CONFIG_BYTES)
    except NotFoundError as err:
        logger.warning("config vanished before it was read", extra={"key": dropped.key, "error": str(err)})
        return {"outcome": "ignored", "reason": str(err)}
    decision = plan_config_drop(dropped, content.data, content.size)
    if isinstance(decision, StartTraining):
        problems = preflight_problems(decision.config, ports.s3, settings.preflight_timeout_seconds())
        if problems:
            decision = rejection(dropped, problems, "training")
    return _carry_out(decision, dropped, ports)


def _carry_out(decision: StartTraining | StartInference | RejectConfig, dropped: DroppedObject, ports: IntakePorts) -> dict[str, Any]:
    if isinstance(decision, RejectConfig):
        ports.s3.put_json(dropped.bucket, decision.report_key, decision.report)
        ports.failures.send(decision.message)
        logger.info("config rejected", extra={"key": dropped.key, "problems": decision.message.problem_count})
        return {"outcome": "rejected", "report_uri": decision.message.report_uri}
    return _start(decision, ports)


def _start(decision: StartTraining | StartInference, ports: IntakePorts) -> dict[str, Any]:
    training = isinstance(decision, StartTraining)
    if isinstance(decision, StartTraining):
        ports.preferences.put(decision.request.model_name, decision.notifications)
    machine = ports.training_machine if training else ports.inference_machine
    if isinstance(decision, StartTraining) and decision.config.segments is not None:
        machine = ports.segments_machine  # one training run per segment, under one family run
    started = ports.workflows.start(machine, decision.run_id, decision.request.model_dump(mode="json"))
    outcome = "already_started" if started.already_existed else "started"
    logger.info(("training" if training else "inference") + " run " + outcome, extra={"run_id": decision.run_id})
    return {"outcome": outcome, "run_id": decision.run_id, "execution_arn": started.execution_arn}
