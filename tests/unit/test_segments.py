"""A model family on fakes: its config, the segments a run plans, and the one table its outcome is."""

import json
from datetime import UTC, datetime

import pytest

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import ConfigError, parse_config
from chalicelib.config.schema import segment_model_name
from chalicelib.inference.freshness import stale_models
from chalicelib.inference.requests import ScheduleFired
from chalicelib.inference.schedule import start_scheduled_runs
from chalicelib.shared.messages import ConfigRef
from chalicelib.training.requests import PlanSegmentsStep, SummarizeSegmentsStep
from chalicelib.training.segments import NoSegmentsError, plan_segments, summarize_segments
from tests.conftest import valid_config
from tests.unit.fakes import FakePorts

TABLE = "s3://data/countries.csv"


def family(**segments):
    return valid_config(model_name="pt", data={**valid_config()["data"], "uri": TABLE}, segments={"column": "country", **segments})


def problems(document):
    with pytest.raises(ConfigError) as caught:
        parse_config(json.dumps(document).encode(), "configs/train/pt.json")
    return {p.path: p.message for p in caught.value.problems}


def test_a_segment_is_named_by_its_value_and_the_config_refuses_what_cannot_be_a_family():
    assert segment_model_name("packaging-type", "New York") == "packaging-type-new-york"
    assert "segments.column" in problems(family(column="category"))  # a feature: one value per segment
    assert "segments.values" in problems(family(values=["DE", "de"]))  # the same model twice
    assert "segments.values.0" in problems(valid_config(model_name="m" * 46, segments={"column": "country", "values": ["abc"]}))


def ports_with(config, rows):
    ports = FakePorts()
    version = ports.s3.put("b", "configs/train/pt.json", json.dumps(config).encode())
    ports.s3.put("data", "countries.csv", ("item_id,country,price\n" + "".join(f"{i},{c},1\n" for i, c in enumerate(rows))).encode())
    return ports, ConfigRef(bucket="b", key="configs/train/pt.json", version_id=version)


def test_without_values_every_value_with_enough_rows_is_a_segment_most_rows_first():
    ports, ref = ports_with(family(min_rows=10), ["DE"] * 30 + ["FR"] * 12 + ["LU"] * 3)

    plan = plan_segments(PlanSegmentsStep(step="plan_segments", run_id="train-pt-1", model_name="pt", config=ref), ports)

    assert [(s["value"], s["model_name"], s["attempt"]) for s in plan["segments"]] == [("DE", "pt-de", 1), ("FR", "pt-fr", 1)]
    assert all(s["run_id"].startswith(f"segment-{s['model_name']}-") for s in plan["segments"])
    assert plan["max_concurrency"] == 10


def test_a_table_without_a_segment_big_enough_says_what_it_has():
    ports, ref = ports_with(family(min_rows=50), ["DE"] * 30)

    with pytest.raises(NoSegmentsError, match="no value of country .* has 50 rows or more .*DE 30"):
        plan_segments(PlanSegmentsStep(step="plan_segments", run_id="train-pt-1", model_name="pt", config=ref), ports)


def test_the_summary_tables_every_segment_and_gives_the_failed_ones_a_next_attempt():
    ports, ref = ports_with(family(values=["DE", "FR"]), [])
    plan = plan_segments(PlanSegmentsStep(step="plan_segments", run_id="train-pt-1", model_name="pt", config=ref), ports)
    de, fr = plan["segments"]
    decision = {"primary_metric": "macro_f1", "candidate_score": 0.91, "reasons": ["✓ macro_f1 0.9100 ≥ floor 0.6000"]}
    ports.models.put(VersionRecord("pt-de", 1, "Approved", de["run_id"], "arn:pkg/1", {}, decision, "2026-12-01", {}))
    ended = [{**de, "status": "SUCCEEDED"},
             {**fr, "status": "FAILED", "error": "States.TaskFailed", "cause": json.dumps({"error": "PipelineFailed", "cause": "boom"})}]

    summary = summarize_segments(SummarizeSegmentsStep(step="summarize_segments", run_id="train-pt-1", model_name="pt",
                                                       column="country", max_concurrency=2, segments=ended), ports)

    assert summary["failed"] == 1
    assert summary["table"].splitlines() == [
        "DE  Approved v1              macro_f1 0.9100", "FR  Failed                   PipelineFailed: boom",
    ]
    assert [(s["value"], s["status"], s["attempt"]) for s in summary["segments"]] == [("DE", "SUCCEEDED", 1), ("FR", "PENDING", 2)]
    assert summary["segments"][1]["run_id"] != fr["run_id"]  # a resume trains FR as a new run


def approved(ports, model, ref):
    record = VersionRecord(model, 1, "Approved", f"train-{model}", f"arn:pkg/{model}", {}, {}, "2026-11-01T00:00:00+00:00", ref)
    ports.models.put(record)
    ports.models.point_to(record)


def scheduled_ports():
    """A plain model, and a family's DE (Berlin) and US (New York) models, all with daily inference."""
    ports = FakePorts()
    daily = {"daily": True, "monthly": True}
    plain = ports.s3.put("b", "configs/train/plain.json", json.dumps(valid_config(model_name="plain", inference=daily)).encode())
    config = family(values=["DE", "US"], timezones={"DE": "Europe/Berlin", "US": "America/New_York"}, daily_hour=5)
    fam = ports.s3.put("b", "configs/train/pt.json", json.dumps({**config, "inference": daily}).encode())
    approved(ports, "plain", {"bucket": "b", "key": "configs/train/plain.json", "version_id": plain})
    for value in ("DE", "US"):
        ref = {"bucket": "b", "key": "configs/train/pt.json", "version_id": fam, "segment": {"column": "country", "value": value}}
        approved(ports, f"pt-{value.lower()}", ref)
    return ports


def started(ports):
    return {arn.rsplit(":", 1)[1]: payload["scheduled_for"] for arn, payload in ports.workflows.started.items()}


def test_each_segment_runs_its_daily_inference_at_its_own_local_hour_on_its_local_date():
    ports = scheduled_ports()

    for hour in range(24):  # a day of hourly ticks, 2026-12-03 (winter: Berlin UTC+1, New York UTC-5)
        start_scheduled_runs(ScheduleFired(mode="hourly", scheduled_for=datetime(2026, 12, 3, hour, tzinfo=UTC)), ports)

    assert started(ports) == {
        "infer-pt-de-daily-2026-12-03": "2026-12-03T05:00:00+01:00",
        "infer-pt-us-daily-2026-12-03": "2026-12-03T05:00:00-05:00",
    }


def test_the_stages_daily_schedule_leaves_segments_to_their_local_hour_and_the_monthly_one_runs_them_all():
    ports = scheduled_ports()

    daily = start_scheduled_runs(ScheduleFired(mode="daily", scheduled_for=datetime(2026, 12, 3, 5, tzinfo=UTC)), ports)
    monthly = start_scheduled_runs(ScheduleFired(mode="monthly", scheduled_for=datetime(2026, 12, 1, 6, tzinfo=UTC)), ports)

    assert daily["started"] == ["infer-plain-daily-2026-12-03"]
    assert sorted(monthly["started"]) == ["infer-plain-monthly-2026-12", "infer-pt-de-monthly-2026-12", "infer-pt-us-monthly-2026-12"]


def test_an_unknown_time_zone_is_refused_at_the_drop():
    assert "segments.timezones" in problems(family(timezones={"DE": "Europe/Bonn"}))


def test_the_missed_run_check_watches_each_segment_on_its_own():
    ports = scheduled_ports()
    ports.watermarks.advance("pt-de", datetime(2026, 12, 3).date(), "infer-pt-de-daily-2026-12-03")

    stale = stale_models(datetime(2026, 12, 3, 12, tzinfo=UTC), ports)

    assert stale == ["plain", "pt-us"]  # pt-de loaded this morning; the others never did since November


def test_values_found_in_the_table_must_name_distinct_models():
    ports, ref = ports_with(family(min_rows=10), ["DE"] * 10 + ["de"] * 10)

    with pytest.raises(NoSegmentsError, match="'DE' and 'de' would name the same model 'pt-de'"):
        plan_segments(PlanSegmentsStep(step="plan_segments", run_id="train-pt-1", model_name="pt", config=ref), ports)


def test_more_values_than_a_family_holds_are_refused_naming_the_limit():
    ports, ref = ports_with(family(min_rows=10), [f"c{i}" for i in range(301) for _ in range(10)])

    with pytest.raises(NoSegmentsError, match="301 values .* at most 300 segments"):
        plan_segments(PlanSegmentsStep(step="plan_segments", run_id="train-pt-1", model_name="pt", config=ref), ports)
