import json

import pytest

from chalicelib.alerts.content import SLACK_TEXT_LIMIT, SNS_BODY_LIMIT, SNS_SUBJECT_LIMIT, cause_excerpt
from chalicelib.alerts.content import alert_for as alert_for_message
from chalicelib.alerts.handler import AlertQueueRecord
from chalicelib.shared.messages import StepFailed, UnreadableMessage, alert_messages

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:mlrelay-dev-training:train-pt-1"
FAILED = {
    "kind": "step_failed", "workflow": "training", "run_id": "train-pt-1", "model_name": "packaging-type",
    "state": "WaitForTrainingPipeline", "execution_arn": EXECUTION, "error": "PipelineFailed",
    "cause": "SageMaker pipeline execution failed: step Train: AlgorithmError: ValueError: y contains 1 class",
    "occurred_at": "2026-11-23T03:12:44Z",
}


def alert_for(message, region, cli="mlrelay"):
    """As the alerts function builds it: the queue record's body parsed into its message model first."""
    record = AlertQueueRecord.model_validate({"messageId": "m-1", "body": json.dumps(message)})
    return alert_for_message(record.body, region, cli)


def texts(slack):
    for block in slack["blocks"]:
        if "text" in block:
            yield block["text"]["text"]
        for element in block.get("elements", []):
            yield element["text"]


def test_a_failure_says_what_where_why_and_how_to_resume():
    alert = alert_for(FAILED, "us-east-1")

    body = alert.sns_body()
    assert alert.title == "❌ training run failed at WaitForTrainingPipeline"
    assert "step Train: AlgorithmError: ValueError: y contains 1 class" in body
    assert "mlrelay runs resume train-pt-1" in body
    assert f"#/v2/executions/details/{EXECUTION}" in body
    assert alert.sns_subject() == "training run failed at WaitForTrainingPipeline"


def test_a_failure_of_the_teams_code_says_fix_then_resume_with_the_fix_and_a_transient_one_says_resume():
    actions = alert_for(FAILED, "us-east-1").actions
    assert "`mlrelay runs resume train-pt-1 --with-config MODEL_FOLDER_OR_CONFIG`" in actions[0]
    throttled = alert_for({**FAILED, "error": "Lambda.TooManyRequestsException", "cause": "Rate exceeded"}, "us-east-1")
    assert throttled.actions[0] == "Resume from the failed step: `mlrelay runs resume train-pt-1`"


def test_a_failed_pipeline_step_names_the_command_that_prints_its_log():
    assert "Step log: `mlrelay runs logs train-pt-1 --step Train`" in alert_for(FAILED, "us-east-1").actions
    throttled = alert_for({**FAILED, "error": "Lambda.TooManyRequestsException", "cause": "Rate exceeded"}, "us-east-1")
    assert not any("runs logs" in action for action in throttled.actions)


def test_a_lambda_cause_is_reduced_to_its_message():
    cause = json.dumps({"errorType": "NotFoundError", "errorMessage": "s3://b/k no longer exists", "stackTrace": ["..."] * 50})

    assert cause_excerpt(cause) == "NotFoundError: s3://b/k no longer exists"


def test_a_huge_cause_fits_every_limit():
    huge = {**FAILED, "cause": "x" * 1_000_000, "run_id": "r" * 80, "state": "S" * 500}

    alert = alert_for(huge, "us-east-1")

    assert all(len(text) <= SLACK_TEXT_LIMIT for text in texts(alert.slack()))
    assert len(alert.slack()["blocks"]) <= 50
    assert len(alert.sns_body()) <= SNS_BODY_LIMIT and len(alert.sns_body().encode()) <= 256 * 1024
    assert len(alert.sns_subject()) <= SNS_SUBJECT_LIMIT and alert.sns_subject().isascii()


def test_a_rejected_model_quotes_its_reasons_and_deltas():
    message = {
        "kind": "model_rejected", "model_name": "packaging-type", "version": 2, "run_id": "train-pt-2",
        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/packaging-type/2",
        "primary_metric": "macro_f1", "score": 0.6718, "baseline_score": 0.914, "baseline_version": 1,
        "deltas": {"macro_f1": -0.2422, "accuracy": -0.1875},
        "reasons": ["✗ macro_f1 0.6718 vs approved 0.9140 (-0.2422; largest allowed drop 0.0100)"],
        "occurred_at": "2026-11-23T03:20:00Z",
    }

    body = alert_for(message, "us-east-1").sns_body()

    assert "packaging-type v2 rejected" in body
    assert "macro_f1 -0.2422" in body and "(approved: 0.9140)" in body
    assert "largest allowed drop 0.0100" in body


def test_a_rejected_config_lists_its_field_problems():
    message = {
        "kind": "config_rejected", "workflow": "training",
        "config": {"bucket": "b", "key": "configs/train/x.json", "version_id": "v1"},
        "problems": [{"path": "data.uri", "message": "must be an S3 URI"}], "problem_count": 3,
        "report_uri": "s3://b/configs/train/x.json.error.json", "occurred_at": "2026-11-23T03:20:00Z",
    }

    body = alert_for(message, "us-east-1").sns_body()

    assert "data.uri: must be an S3 URI" in body and "… and 2 more" in body
    assert "s3://b/configs/train/x.json.error.json" in body


def test_identical_failures_share_a_collapse_key_and_others_do_not():
    same = alert_for(FAILED, "us-east-1").collapse_key

    assert same == alert_for(dict(FAILED), "us-east-1").collapse_key
    assert same == alert_for({**FAILED, "run_id": "train-pt-9"}, "us-east-1").collapse_key  # another run, the same failure
    assert same != alert_for({**FAILED, "state": "LoadTrainingConfig"}, "us-east-1").collapse_key
    assert same != alert_for({**FAILED, "error": "States.Timeout"}, "us-east-1").collapse_key
    assert same != alert_for({**FAILED, "model_name": "other-model"}, "us-east-1").collapse_key


def test_a_storm_summary_gives_the_count_and_the_first_and_last_time():
    storm = alert_for(FAILED, "us-east-1").repeated(100, 1_795_000_000, 1_795_000_600)

    assert storm.title.endswith(" ×100")
    assert ("Repeats", "100 times, first 2026-11-18 11:06:40 UTC, last 2026-11-18 11:16:40 UTC (identical failures fold)") in storm.fields


def test_an_unknown_message_still_alerts_naming_what_is_wrong():
    alert = alert_for({"kind": "mystery", "x": 1}, "us-east-1")

    assert "cannot read" in alert.title and '"x": 1' in alert.detail
    assert "mystery" in alert.sns_body()


@pytest.mark.parametrize("field", ["state", "run_id", "error", "occurred_at"])
def test_a_step_failed_message_missing_a_field_is_unreadable_and_names_the_field(field):
    renamed = {("failed_" + k if k == field else k): v for k, v in FAILED.items()}

    record = AlertQueueRecord.model_validate({"messageId": "m-1", "body": json.dumps(renamed)})

    assert isinstance(record.body, UnreadableMessage)
    assert any(problem.startswith(f"step_failed.{field}") for problem in record.body.problems)
    assert f"step_failed.{field}" in alert_for_message(record.body, "us-east-1").sns_body()


def test_every_state_machine_reports_a_step_failed_message_with_every_field_the_model_requires():
    from tests.conftest import ROOT

    for name in ("training", "inference"):
        body = json.loads((ROOT / "statemachines" / f"{name}.asl.json").read_text())["States"]["ReportFailure"]
        sent = {key.removesuffix(".$") for key in body["Parameters"]["MessageBody"]}
        required = {n for n, f in StepFailed.model_fields.items() if f.is_required()} | {"kind"}
        assert required <= sent <= set(StepFailed.model_fields), name


def test_a_message_kind_maps_to_its_model():
    assert isinstance(alert_messages.validate_python(FAILED), StepFailed)


def test_a_lambda_destination_record_names_the_function_and_its_error():
    record = {
        "version": "1.0", "timestamp": "2026-11-23T03:00:00.000Z",
        "requestContext": {"requestId": "r1", "functionArn": "arn:aws:lambda:us-east-1:1:function:mlrelay-dev-on_config_dropped:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"detail": {}}, "responseContext": {"functionError": "Unhandled"},
        "responsePayload": {"errorType": "ValidationError", "errorMessage": "detail.bucket: Field required"},
    }

    alert = alert_for(record, "us-east-1")

    assert alert.title == "❌ mlrelay-dev-on_config_dropped failed after 3 attempts"
    assert "ValidationError: detail.bucket: Field required" in alert.sns_body()


def test_a_load_far_from_the_previous_run_is_flagged():
    message = {"kind": "predictions_loaded", "model_name": "packaging-type", "mode": "monthly", "rows_loaded": 400,
               "previous_rows": 4000, "far_from_previous": True, "per_class": {"BOX": 400}, "run_id": "r", "table": "t",
               "model_version": 1, "occurred_at": "2026-11-23T03:20:00Z"}

    alert = alert_for(message, "us-east-1")

    assert alert.title == "⚠️ 400 monthly predictions loaded for packaging-type: far from the previous run's 4,000"
    assert "Previous run: 4,000 rows" in alert.sns_body()


def test_the_commands_an_alert_prints_name_the_deployed_stack_they_work_against():
    alert = alert_for(FAILED, "eu-west-1", "mlrelay --stage prod")

    assert any("`mlrelay --stage prod runs resume " in action for action in alert.actions)
    assert not any("`mlrelay runs" in action for action in alert.actions)


def test_a_quality_drop_says_the_metric_now_and_at_training_and_the_retraining_it_started():
    message = {
        "kind": "model_quality_measured", "run_id": "quality-pt-1", "model_name": "packaging-type", "model_version": 3,
        "metric": "macro_f1", "lower_is_better": False, "value": 0.61, "training_value": 0.86, "dropped": True,
        "reasons": ["✗ macro_f1 0.6100 vs at training 0.8600 (-0.2500; higher is better; largest allowed regression 0.0100)"],
        "labelled_rows": 1200, "matched_rows": 1180, "metrics_uri": "s3://b/runs/packaging-type/quality-pt-1/quality/metrics.json",
        "retraining_run_id": "train-packaging-type-retrain-0123", "occurred_at": "2026-12-01T09:00:00Z",
    }

    alert = alert_for(message, "us-east-1")

    assert alert.title == "📉 packaging-type v3: quality dropped on 1,180 labelled items (macro_f1 0.6100, 0.8600 at training)"
    body = alert.sns_body()
    assert "1,180 of 1,200 matched a prediction" in body and "-0.2500" in body
    assert "Retraining started (monitoring.retrain_on_quality_drop): run train-packaging-type-retrain-0123" in body


def test_an_alarm_state_change_from_eventbridge_alerts_with_its_description_and_reason():
    event = {
        "version": "0", "id": "e-1", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": "2026-12-03T03:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mlrelay-prod-failures-dead-letters"],
        "detail": {
            "alarmName": "mlrelay-prod-failures-dead-letters",
            "state": {"value": "ALARM", "reason": "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0)."},
            "previousState": {"value": "OK", "reason": ""},
            "configuration": {"description": "Messages are waiting in the failures dead-letter queue."},
        },
    }

    alert = alert_for(event, "eu-west-1")

    assert alert.title == "🚨 alarm mlrelay-prod-failures-dead-letters: ALARM"
    body = alert.sns_body()
    assert "Messages are waiting in the failures dead-letter queue." in body and "Threshold Crossed" in body
    assert "#alarmsV2:alarm/mlrelay-prod-failures-dead-letters" in body
