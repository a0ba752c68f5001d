"""Answer the workflow that waits for a SageMaker pipeline, from the pipeline's status event.

The workflow stores its task token against the pipeline execution ARN; this
handler stores the outcome against the same key. Whichever comes second
completes the handshake (the workflow reads the stored outcome when it was
too late to wait), so a fast pipeline cannot strand a run. A duplicate
event finds the delivery already claimed and does nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.callbacks import OutcomeConflictError
from chalicelib.aws.errors import AwsError
from chalicelib.aws.sagemaker import PipelineOutcome
from chalicelib.pipeline_status.plan import (
    TERMINAL_STATUSES,
    PipelineStatusDetail,
    PipelineStatusEvent,
    SendSuccess,
    plan_callback,
)
from chalicelib.shared.events import parsed_or_reported
from chalicelib.shared.observability import logger
from chalicelib.shared.pipeline_runs import TRAIN_STEP, model_artifact_uri
from chalicelib.shared.port_roles import PipelineStatusPorts
from chalicelib.shared.ports import aws_ports


def handle_pipeline_status(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed = parsed_or_reported(PipelineStatusEvent, event, "on_pipeline_status", aws_ports())
    return answer_waiting_workflow(parsed.detail, aws_ports()) if parsed else {"outcome": "event_rejected"}


def failure_reason(execution_arn: str, outcome: PipelineOutcome, ports: PipelineStatusPorts) -> str:
    """The failed step's reason; but when Train succeeded and wrote no files, the run failed there, whatever step
    met the empty model first (SageMaker passes a training job whose model directory is empty)."""
    if not outcome.trained_job or not outcome.run_id or outcome.failed_step in ("", TRAIN_STEP):
        return outcome.failure_reason
    try:
        model_name = ports.pipelines.parameters(execution_arn).get("ModelName", "")  # the run's, under runs/<model>/
        if not model_name:  # an execution started without one wrote under runs/<run>/; no look there
            return outcome.failure_reason
        artifact = model_artifact_uri(ports.artifact_bucket, model_name, outcome.run_id, outcome.trained_job)
        if ports.s3.archive_holds_files(artifact):
            return outcome.failure_reason
    except AwsError as err:  # the step's own reason still stands
        logger.warning("cannot look into the model artifact", extra={"execution": execution_arn, "error": str(err)})
        return outcome.failure_reason
    return (f"step {TRAIN_STEP}: AlgorithmError: the training code wrote no files to SM_MODEL_DIR ({artifact} holds none); "
            f"then {outcome.failure_reason}")


def answer_waiting_workflow(detail: PipelineStatusDetail, ports: PipelineStatusPorts) -> dict[str, Any]:
    arn = detail.pipeline_execution_arn
    if detail.status not in TERMINAL_STATUSES:
        return {"outcome": "ignored", "status": detail.status}
    reason = "" if detail.status == "Succeeded" else failure_reason(arn, ports.pipelines.outcome(arn), ports)
    try:
        token = ports.pipeline_callbacks.record_outcome(arn, detail.status, reason)
    except OutcomeConflictError as err:  # the first outcome stands; the workflow got or reads that one
        logger.warning("pipeline status event contradicts the recorded outcome", extra={"arn": arn, "error": str(err)})
        return {"outcome": "conflicting", "status": detail.status}
    if token is None:
        logger.info("pipeline ended before its workflow waited; the workflow reads the outcome", extra={"arn": arn})
        return {"outcome": "recorded"}
    claimed_at = datetime.now(UTC).isoformat()
    if not ports.pipeline_callbacks.claim_delivery(arn, claimed_at):
        logger.info("duplicate pipeline status event", extra={"arn": arn, "status": detail.status})
        return {"outcome": "duplicate"}
    plan = plan_callback(arn, detail.status, reason)
    try:
        if isinstance(plan, SendSuccess):
            delivered = ports.task_callbacks.succeed(token, plan.output)
        else:
            delivered = ports.task_callbacks.fail(token, plan.error, plan.cause)
    except Exception:
        # as Powertools' idempotency deletes its in-progress record: Lambda's retry must find no claim
        ports.pipeline_callbacks.release_delivery(arn, claimed_at)
        raise
    return {"outcome": "delivered" if delivered else "stale_token", "status": detail.status}
