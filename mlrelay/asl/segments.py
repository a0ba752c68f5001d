"""The segments workflow (a model family), as statemachines/segments.asl.json is built from it.

Each segment trains as a training run of its own, a child execution of the
training workflow (startExecution.sync:2): its history, resume, registry
group and approved pointer are its own, and this execution's history grows by
about ten events per segment, not by a whole training run's. A resumed
family run re-enters the Map, which skips the segments that succeeded.
"""

from __future__ import annotations

from typing import Any

from chalicelib.training.results import SegmentsPlan, SegmentsSummary
from mlrelay.asl.builder import LAMBDA, StateMachine, lambda_step, notify, record_run_started, record_run_succeeded, service

STEP = "${TrainingStepFunctionArn}"
CHILD_ERRORS = ("StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException",
                "StepFunctions.AWSStepFunctionsException")
ITEM_FIELDS = ("value", "model_name", "run_id", "attempt")


def segments() -> dict[str, Any]:
    machine = StateMachine(
        "segments",
        "Model family run: one config, one model per segment. Plans the segments, trains each as a training run of its "
        "own (a child execution, at most the config's max_concurrency at once), then reports every segment's outcome in "
        "one notice. A segment that fails fails only itself; the run then fails naming them, and a resume trains only "
        "those again.",
    )
    record_run_started(
        machine, "config_uri = :config_uri",
        {":config_uri": {"S.$": "States.Format('s3://{}/{}', $.config.bucket, $.config.key)"}}, next="PlanSegments",
    )
    lambda_step(
        machine, "PlanSegments", STEP, "plan_segments",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "config.$": "$.config"},
        next="TrainSegments", result_path="$.plan",
        result=SegmentsPlan.fields_read(),
        comment="The config's segments, or every value of the column with segments.min_rows rows; a run name per segment.",
    )
    machine.add("TrainSegments", {
        "Type": "Map",
        "Comment": "One training run per segment, at most max_concurrency at once. Succeeded segments (a resumed run) "
        "are kept as they are.",
        "ItemsPath": "$.plan.segments",
        "MaxConcurrencyPath": "$.plan.max_concurrency",
        "ItemSelector": {
            "item.$": "$$.Map.Item.Value", "config.$": "$.config", "column.$": "$.plan.column", "family_run_id.$": "$.run_id",
            "callback_timeout_seconds.$": "$.callback_timeout_seconds",
        },
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "AlreadyTrained", "States": _segment_states()},
        "ResultPath": "$.plan.segments",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "TrainSegmentsFailed"}],
        "Next": "SummarizeSegments",
    })
    machine.reported_steps.append("TrainSegments")
    lambda_step(
        machine, "SummarizeSegments", STEP, "summarize_segments",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "column.$": "$.plan.column",
         "max_concurrency.$": "$.plan.max_concurrency", "segments.$": "$.plan.segments"},
        next="AnySegmentFailed", result_path="$.plan",
        result=SegmentsSummary.fields_read(),
        comment="Each segment's outcome (version, decision, metric, or error) in one table and one notice; the failed "
        "segments get their next attempt, which a resume trains.",
    )
    machine.add("AnySegmentFailed", {
        "Type": "Choice",
        "Choices": [{"Variable": "$.plan.failed", "NumericGreaterThan": 0, "Next": "SegmentsNotAllTrained"}],
        "Default": "NotifySegmentsTrained",
    })
    machine.fail_as(
        "SegmentsNotAllTrained", "TrainSegments", error="SegmentsNotAllTrained",
        cause_path="States.Format('{} segment(s) failed, the others are trained; resuming the run trains the failed ones "
        "again. {}', $.plan.failed, $.plan.table)",
    )
    notify(
        machine, "NotifySegmentsTrained", "$.plan.notification", next="RecordRunSucceeded",
        comment="segments_trained: every segment's outcome, in one notice.",
    )
    record_run_succeeded(
        machine, "segments_trained = :count", {":count": {"N.$": "States.Format('{}', States.ArrayLength($.plan.segments))"}},
        next="SegmentsRecorded",
    )
    machine.add("SegmentsRecorded", {"Type": "Succeed"})
    return machine.definition()


def _segment_states() -> dict[str, Any]:
    item = {f"{key}.$": f"$.item.{key}" for key in ITEM_FIELDS}
    return {
        "AlreadyTrained": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.item.status", "StringEquals": "SUCCEEDED", "Next": "KeepOutcome"}],
            "Default": "TrainSegment",
        },
        "KeepOutcome": {"Type": "Pass", "OutputPath": "$.item", "End": True},
        "TrainSegment": {
            "Type": "Task",
            "Comment": "The segment's training run, as a child execution of the training workflow: the segment travels "
            "in the config reference, so the run trains on its rows and registers its own model.",
            "Resource": service("states:startExecution.sync:2"),
            "Parameters": {
                "StateMachineArn": "${TrainingStateMachineArn}",
                "Name.$": "$.item.run_id",
                "Input": {
                    "run_id.$": "$.item.run_id", "workflow": "training", "model_name.$": "$.item.model_name",
                    "config": {
                        "bucket.$": "$.config.bucket", "key.$": "$.config.key", "version_id.$": "$.config.version_id",
                        "etag.$": "$.config.etag", "segment": {"column.$": "$.column", "value.$": "$.item.value"},
                    },
                    "requested_at.$": "$$.Execution.StartTime", "callback_timeout_seconds.$": "$.callback_timeout_seconds",
                },
            },
            "ResultSelector": {"status.$": "$.Status"},
            "ResultPath": "$.child",
            "Retry": [{**LAMBDA.asl(), "ErrorEquals": list(CHILD_ERRORS)}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "SegmentNotTrained"}],
            "Next": "SegmentTrained",
        },
        "SegmentTrained": {"Type": "Pass", "Parameters": {**item, "status": "SUCCEEDED"}, "End": True},
        "SegmentNotTrained": {
            "Type": "Pass", "Comment": "Fails only this segment: the others go on.",
            "Parameters": {**item, "status": "FAILED", "error.$": "$.error.Error", "cause.$": "$.error.Cause"}, "End": True,
        },
    }
