"""The training workflow, as statemachines/training.asl.json is built from it."""

from __future__ import annotations

from typing import Any

from chalicelib.training.results import Decision, DeploymentStarted, Registration
from mlrelay.asl.builder import StateMachine, lambda_step, notify, record_run_started, record_run_succeeded, run_pipeline

STEP = "${TrainingStepFunctionArn}"


def training() -> dict[str, Any]:
    machine = StateMachine(
        "training",
        "Training run: load the config, run the SageMaker pipeline (waiting by callback, no polling), judge the model "
        "against the approved one, register it Approved or Rejected, record and notify. Every Task retries transient "
        "errors and catches the rest into the failure path.",
    )
    record_run_started(
        machine, "config_uri = :config_uri",
        {":config_uri": {"S.$": "States.Format('s3://{}/{}', $.config.bucket, $.config.key)"}}, next="LoadTrainingConfig",
    )
    lambda_step(
        machine, "LoadTrainingConfig", STEP, "load_config",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "config.$": "$.config",
         "callback_timeout_seconds.$": "$.callback_timeout_seconds"},
        next="StartTrainingPipeline", result={"settings": ""}, result_path="$.training",  # TrainingSettings, whole
        comment="Re-reads the exact config version that started the run and returns the resolved training settings.",
    )
    run_pipeline(
        machine, "Training", "$.training.settings.pipeline_name", "$.training.settings", next="EvaluateCandidate",
        start_comment="Starts the SageMaker pipeline. The client token derives from the run id, so a retry of this "
        "state starts nothing new.",
    )
    lambda_step(
        machine, "EvaluateCandidate", STEP, "evaluate",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "approval.$": "$.training.settings.approval"},
        next="PromoteOrReject", result_path="$.decision",
        result=Decision.fields_read(),
        comment="Reads the run's metrics.json and judges it against the approved model (chalicelib/training/promotion.py).",
    )
    machine.add("PromoteOrReject", {
        "Type": "Choice",
        "Choices": [{"Variable": "$.decision.promote", "BooleanEquals": True, "Next": "RegisterApprovedModel"}],
        "Default": "RegisterRejectedModel",
    })
    for approved, name, comment in (
        (True, "RegisterApprovedModel", "Registers the version as Approved and moves the approved pointer to it; with "
         "approval.mode manual, as PendingManualApproval for a person to decide (the pointer stays)."),
        (False, "RegisterRejectedModel", "Registers the version as Rejected with its reasons; the approved pointer stays where it is."),
    ):
        lambda_step(
            machine, name, STEP, "register",
            {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "pipeline_execution_arn.$": "$.pipeline.execution_arn",
             "approved": approved, "decision.$": "$.decision", "config.$": "$.config",
             "code.$": "$.training.settings.code", "task.$": "$.training.settings.task",
             "approval_mode.$": "$.training.settings.approval.mode", "approval.$": "$.training.settings.approval"},
            next="StartDeployment" if approved else "NotifyOutcome", result=Registration.fields_read(),
            result_path="$.registration", comment=comment,
        )
    lambda_step(
        machine, "StartDeployment", STEP, "start_deployment",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "version.$": "$.registration.version",
         "status.$": "$.registration.status"},
        next="NotifyOutcome", result=DeploymentStarted.fields_read(), result_path="$.deployment",
        comment="When the version is now the approved one and its config asks for an endpoint (serving.endpoint), starts "
        "the deploy run that serves it (statemachines/deploy.asl.json); otherwise nothing.",
    )
    record_run_succeeded(
        machine, "model_type = :model_type, model_version = :version, decision = :decision",
        {":model_type": {"S.$": "$.training.settings.model_type"},
         ":version": {"N.$": "States.Format('{}', $.registration.version)"}, ":decision": {"S.$": "$.registration.status"}},
        next="TrainingRecorded",
    )
    notify(
        machine, "NotifyOutcome", "$.registration.notification", next="RecordRunSucceeded",
        comment="model_promoted or model_rejected, with metrics, deltas and reasons, to the notifications path.",
    )
    machine.add("TrainingRecorded", {"Type": "Succeed"})
    return machine.definition()
