"""The inference workflow, as statemachines/inference.asl.json is built from it."""

from __future__ import annotations

from typing import Any

from chalicelib.inference.results import (
    CountStarted,
    InferenceSettings,
    LoadStarted,
    MonitoringVerdict,
    QualityVerdict,
    Verified,
)
from mlrelay.asl.builder import (
    DYNAMODB,
    StateMachine,
    lambda_step,
    notify,
    record_run_started,
    record_run_succeeded,
    run_pipeline,
    service,
    statement_poll,
    update_run,
)

STEP = "${InferenceStepFunctionArn}"
RUN = {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "mode.$": "$.mode", "scheduled_for.$": "$.scheduled_for",
       "predictions_table.$": "$.predictions_table"}


def inference() -> dict[str, Any]:
    machine = StateMachine(
        "inference",
        "Inference run: resolve the approved model, run the inference pipeline (waiting by callback), record its "
        "monitoring results and alert on drift (or stop, when the model's config blocks on violations), load the "
        "predictions into Redshift through the Data API in one transaction (polled with bounded Wait loops, no "
        "sleeping Lambda), verify the row count, record and notify. Every Task retries transient errors and catches "
        "the rest into the failure path.",
    )
    record_run_started(
        machine, "#mode = :mode, scheduled_for = :scheduled_for",
        {":mode": {"S.$": "$.mode"}, ":scheduled_for": {"S.$": "$.scheduled_for"}}, next="ResolveApprovedModel", **{"#mode": "mode"},
    )
    machine.task(
        "ResolveApprovedModel", service("dynamodb:getItem"), retry=DYNAMODB, next="HasApprovedModel",
        comment="The approved-version pointer the training workflow maintains.", result_path="$.approved",
        parameters={
            "TableName": "${ModelsTable}", "ConsistentRead": True,
            "Key": {"model_name": {"S.$": "$.model_name"}, "version_key": {"S": "approved"}},
        },
    )
    machine.add("HasApprovedModel", {
        "Type": "Choice", "Choices": [{"Variable": "$.approved.Item", "IsPresent": True, "Next": "PrepareInference"}],
        "Default": "NoApprovedModel",
    })
    machine.fail_as(
        "NoApprovedModel", "ResolveApprovedModel", error="NoApprovedModel",
        cause_path="States.Format('model {} has no approved version to predict with: train one first (drop its config "
        "under configs/train/)', $.model_name)",
    )
    lambda_step(
        machine, "PrepareInference", STEP, "prepare",
        {**RUN, "catalogue_uri.$": "$.catalogue_uri", "callback_timeout_seconds.$": "$.callback_timeout_seconds"},
        next="StartInferencePipeline", result_path="$.settings",
        result=InferenceSettings.fields_read(),
        comment="Reads the approved model's package and config and decides what to predict (daily: items added since "
        "the last successful daily run); for a quality run, which stored predictions the labels are judged against.",
    )
    run_pipeline(
        machine, "Inference", "$.settings.pipeline_name", "$.settings", next="PredictionsOrQuality",
        start_comment="Starts the inference pipeline (the quality pipeline for labels); the client token derives from the run id.",
    )
    machine.add("PredictionsOrQuality", {
        "Type": "Choice",
        "Choices": [{"Variable": "$.mode", "StringEquals": "quality", "Next": "JudgeModelQuality"}],
        "Default": "RecordMonitoring",
    })
    _quality_verdict(machine)
    lambda_step(
        machine, "RecordMonitoring", STEP, "monitoring",
        {**RUN, "model_version.$": "$.settings.model_version", "execution.$": "$$.Execution.Name"},
        next="InitMonitoringRecordPolls", result_path="$.monitoring",
        result=MonitoringVerdict.fields_read(),
        comment="Submits the Monitor step's results to the warehouse's monitoring table and reads its verdict: alert or not, "
        "load or not (monitoring.on_violation).",
    )
    statement_poll(
        machine, "MonitoringRecord", "RecordMonitoring", "$.monitoring", what="the monitoring rows", next="MonitoringVerdict",
        error="RedshiftMonitoringRecordFailed",
    )
    machine.add("MonitoringVerdict", {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.monitoring.blocked", "BooleanEquals": True, "Next": "LoadBlocked"},
            {"Variable": "$.monitoring.notify", "BooleanEquals": True, "Next": "NotifyDataDrift"},
        ],
        "Default": "StartLoad",
    })
    machine.fail_as("LoadBlocked", "RecordMonitoring", error="DataQualityViolation", cause_path="$.monitoring.cause")
    notify(
        machine, "NotifyDataDrift", "$.monitoring.notification", next="StartLoad",
        comment="data_drift_detected (the features, their distances, the NDCG, the report) to the notifications path.",
    )
    lambda_step(
        machine, "StartLoad", STEP, "load",
        {**RUN, "model_version.$": "$.settings.model_version", "execution.$": "$$.Execution.Name"},
        next="InitLoadPolls", result=LoadStarted.fields_read(), result_path="$.load",
        comment="Submits one BatchExecuteStatement (one transaction): COPY by manifest into staging, delete this run's "
        "rows, insert.",
    )
    statement_poll(machine, "Load", "StartLoad", "$.load", what="the load", next="StartCount", error="RedshiftLoadFailed")
    lambda_step(
        machine, "StartCount", STEP, "count", {**RUN, "execution.$": "$$.Execution.Name"},
        next="InitCountPolls", result=CountStarted.fields_read(), result_path="$.count",
        comment="Counts this run's rows in the target (the run id as a Data API parameter).",
    )
    statement_poll(
        machine, "Count", "StartCount", "$.count", what="the row count", next="VerifyRowCount", error="RedshiftCountFailed",
    )
    lambda_step(
        machine, "VerifyRowCount", STEP, "verify",
        {**RUN, "model_version.$": "$.settings.model_version", "count_statement_id.$": "$.count.statement_id",
         "window_until.$": "$.settings.window.until"},
        next="NotifyPredictionsLoaded", result=Verified.fields_read(),
        result_path="$.verified",
        comment="Fails the run if the table does not hold exactly the rows the transform produced; moves the daily watermark.",
    )
    record_run_succeeded(
        machine, "rows_loaded = :rows, model_version = :version",
        {":rows": {"N.$": "States.Format('{}', $.verified.rows_loaded)"},
         ":version": {"N.$": "States.Format('{}', $.settings.model_version)"}},
        next="PredictionsRecorded",
    )
    notify(
        machine, "NotifyPredictionsLoaded", "$.verified.notification", next="RecordRunSucceeded",
        comment="predictions_loaded (rows, model version) to the notifications path.",
    )
    machine.add("PredictionsRecorded", {"Type": "Succeed"})
    return machine.definition()


def _quality_verdict(machine: StateMachine) -> None:
    """A quality run's end: judge the labels' metrics against training, tell people, record."""
    lambda_step(
        machine, "JudgeModelQuality", STEP, "quality", {**RUN, "model_version.$": "$.settings.model_version"},
        next="NotifyModelQuality", result_path="$.quality",
        result=QualityVerdict.fields_read(),
        comment="Compares the metrics the labels gave with the version's evaluation at training (approval.metric and "
        "max_regression); starts a retraining run when the drop is too large and the config asks for it.",
    )
    notify(
        machine, "NotifyModelQuality", "$.quality.notification", next="RecordQualityMeasured",
        comment="model_quality_measured (the metric now and at training, the verdict) to the notifications path.",
    )
    update_run(
        machine, "RecordQualityMeasured",
        "SET #status = :succeeded, model_version = :version, quality_metric = :metric, quality_value = :value, "
        "quality_dropped = :dropped",
        {":succeeded": {"S": "SUCCEEDED"}, ":version": {"N.$": "States.Format('{}', $.settings.model_version)"},
         ":metric": {"S.$": "$.quality.metric"}, ":value": {"N.$": "States.Format('{}', $.quality.value)"},
         ":dropped": {"BOOL.$": "$.quality.dropped"}},
        next="QualityMeasured", comment="Last, so that a quality run resumed at any step ends recorded as succeeded.",
    )
    machine.add("QualityMeasured", {"Type": "Succeed"})
