import json
from datetime import UTC, date, datetime

from chalicelib.config.parsing import parse_config
from chalicelib.inference.plan import daily_window, inference_settings, run_spec
from chalicelib.shared.naming import on_demand_run_id, scheduled_run_id
from tests.conftest import EXAMPLES, ROOT

AT = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_scheduled_runs_are_named_by_day_or_month():
    assert scheduled_run_id("packaging-type", "daily", AT) == "infer-packaging-type-daily-2026-11-23"
    assert scheduled_run_id("packaging-type", "monthly", AT) == "infer-packaging-type-monthly-2026-11"
    assert scheduled_run_id("packaging-type", "daily", AT.replace(hour=23)) == scheduled_run_id("packaging-type", "daily", AT)


def test_on_demand_runs_are_named_by_object_version():
    first = on_demand_run_id("packaging-type", "b", "configs/infer/x.json", "v1")

    assert first == on_demand_run_id("packaging-type", "b", "configs/infer/x.json", "v1")
    assert first != on_demand_run_id("packaging-type", "b", "configs/infer/x.json", "v2")
    assert len(first) <= 80


def test_the_first_daily_run_takes_the_previous_day():
    assert daily_window(AT, None) == (date(2026, 11, 22), date(2026, 11, 23))


def test_a_daily_run_takes_everything_since_the_last_successful_one():
    assert daily_window(AT, date(2026, 11, 20)) == (date(2026, 11, 20), date(2026, 11, 23))


def test_a_watermark_ahead_of_the_run_does_not_give_an_empty_window():
    assert daily_window(AT, date(2026, 11, 25)) == (date(2026, 11, 22), date(2026, 11, 23))


def test_settings_fill_every_parameter_the_inference_pipeline_declares():
    config = parse_config((EXAMPLES / "packaging-type.json").read_bytes(), "packaging-type.json")
    container = {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz", "Environment": {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/c.tar.gz"}}
    run = {"run_id": "infer-x", "model_name": "packaging-type", "mode": "daily", "catalogue_uri": None, "callback_timeout_seconds": None}

    window = (date(2026, 11, 22), date(2026, 11, 23))
    settings = inference_settings(
        config, run, container, window, "processing-image", "eu-west-1", "s3://b/runs/packaging-type/infer-x/spec-0/spec.json",
        "s3://b/runs/packaging-type/train-1/evaluation/",
    )

    values = {p["Name"]: p["Value"] for p in settings["pipeline_parameters"]}
    declared = json.loads((ROOT / "pipelines" / "inference.pipeline.json").read_text())["Parameters"]
    assert set(values) == {p["Name"] for p in declared}
    assert values["CatalogueUri"] == config.data.uri  # no catalogue_uri: the training table
    assert (values["ModelCodeUri"], values["Region"], values["ProcessingImage"]) == ("s3://b/c.tar.gz", "eu-west-1", "processing-image")
    assert settings["window"] == {"since": "2026-11-22", "until": "2026-11-23"}
    assert values["BaselineUri"] == "s3://b/runs/packaging-type/train-1/evaluation/"  # the approved version's training baseline
    assert (values["ModelName"], values["RunId"]) == ("packaging-type", "infer-x")


def test_the_spec_carries_the_columns_and_the_window_so_no_parameter_does():
    config = parse_config((EXAMPLES / "packaging-type.json").read_bytes(), "packaging-type.json")

    spec = run_spec(config, "daily", (date(2026, 11, 22), date(2026, 11, 23)), "infer-x", 3)

    assert spec["feature_columns"] == list(config.data.feature_columns) and spec["task"] == "multiclass_classification"
    assert (spec["since"], spec["until"], spec["id_column"], spec["rows_per_file"]) == ("2026-11-22", "2026-11-23", "item_id", 50_000)
    assert (spec["run_id"], spec["model_name"], spec["model_version"]) == ("infer-x", "packaging-type", 3)
    assert spec["monitoring"]["on_violation"] == "warn" and spec["monitoring"]["thresholds"]["wasserstein"] == 0.1


def test_row_counts_far_from_the_previous_run():
    from chalicelib.inference.plan import far_from_previous

    assert not far_from_previous(4000, None)
    assert not far_from_previous(6, 4)  # small runs vary a lot in ratio but not in rows
    assert not far_from_previous(4000, 3900)
    assert far_from_previous(400, 4000) and far_from_previous(12_000, 4000)
    assert far_from_previous(0, 150)
