import json
from datetime import UTC, datetime

from chalicelib.config.parsing import MAX_CONFIG_BYTES
from chalicelib.intake.plan import (
    DroppedObject,
    RejectConfig,
    StartTraining,
    plan_config_drop,
    should_ignore,
)
from chalicelib.shared.naming import training_run_id
from tests.conftest import valid_config

WHEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def dropped(key="configs/train/packaging-type.json", version_id="v1", size=100):
    return DroppedObject("bucket-a", key, version_id, "etag1", size, WHEN)


def test_a_valid_config_plans_one_named_training_run():
    content = json.dumps(valid_config()).encode()

    plan = plan_config_drop(dropped(), content, len(content))

    assert isinstance(plan, StartTraining)
    assert plan.run_id == training_run_id("bucket-a", "configs/train/packaging-type.json", "v1", "etag1")
    assert plan.run_id.startswith("train-packaging-type-")
    assert plan.request.model_name == "packaging-type"
    assert plan.request.config.version_id == "v1"
    # The input must be the same for every delivery of the event, so that
    # Step Functions treats a repeated StartExecution as the same execution.
    assert plan.request.requested_at == WHEN


def test_a_bad_config_plans_a_report_beside_it_and_a_failure_message():
    content = b'{"schema_version": 2}'

    plan = plan_config_drop(dropped(key="configs/train/x.json"), content, len(content))

    assert isinstance(plan, RejectConfig)
    assert plan.report_key == "configs/train/x.json.error.json"
    assert plan.message.report_uri == "s3://bucket-a/configs/train/x.json.error.json"
    assert plan.message.problem_count == len(plan.report["problems"]) == 4
    assert plan.report["problems"][0] == {"path": "schema_version", "message": "Input should be 1 (got 2)"}


def test_an_oversized_object_is_rejected_by_its_size_without_parsing():
    plan = plan_config_drop(dropped(), b"{", size=MAX_CONFIG_BYTES * 10)

    assert isinstance(plan, RejectConfig)
    assert "655,360 bytes" in plan.report["problems"][0]["message"]


def test_the_message_carries_at_most_50_problems_and_the_true_count():
    many_unknown = {**valid_config(), **{f"field_{i}": i for i in range(80)}}
    content = json.dumps(many_unknown).encode()

    plan = plan_config_drop(dropped(), content, len(content))

    assert plan.message.problem_count == 80
    assert len(plan.message.problems) == 50
    assert len(plan.report["problems"]) == 80


def test_error_reports_and_folders_are_ignored():
    assert should_ignore(dropped(key="configs/train/x.json.error.json"))
    assert should_ignore(dropped(key="configs/train/"))
    assert should_ignore(dropped()) is None


def test_unversioned_buckets_fall_back_to_the_etag():
    with_etag_a = training_run_id("b", "configs/train/x.json", None, '"aaa"')
    with_etag_b = training_run_id("b", "configs/train/x.json", "null", "bbb")

    assert with_etag_a == training_run_id("b", "configs/train/x.json", None, "aaa")
    assert with_etag_a != with_etag_b


def test_an_inference_request_may_name_its_table_and_a_bad_name_is_refused_naming_the_field():
    from chalicelib.intake.plan import StartInference

    request = {"schema_version": 1, "model_name": "packaging-type", "predictions_table": "mlrelay.canary_dev"}
    good = json.dumps(request).encode()
    planned = plan_config_drop(dropped("configs/infer/canary.json"), good, len(good))
    assert isinstance(planned, StartInference) and planned.request.predictions_table == "mlrelay.canary_dev"

    # a drop may name a scratch table only, never a predictions table (this stage's or another's)
    for table in ("mlrelay.canary; DROP TABLE x", "mlrelay.predictions", "ml.package_type_predictions", "canary_dev"):
        bad = json.dumps({**request, "predictions_table": table}).encode()
        refused = plan_config_drop(dropped("configs/infer/canary.json"), bad, len(bad))
        assert isinstance(refused, RejectConfig), table
        assert [p["path"] for p in refused.report["problems"]] == ["predictions_table"]
