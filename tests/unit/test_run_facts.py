"""`mlrelay runs show` names what started a run, and nothing it does not have."""

from mlrelay.cli.runs_cmd import run_facts


def test_a_scheduled_run_shows_its_mode_and_time_and_no_empty_fields():
    scheduled = {"run_id": "infer-pt-daily-2026-11-24", "workflow": "inference", "model_name": "pt", "mode": "daily",
                 "scheduled_for": "2026-11-24T05:00:00Z", "catalogue_uri": None, "callback_timeout_seconds": None}

    lines = run_facts(scheduled)

    assert lines == ["model: pt   mode: daily   scheduled for: 2026-11-24T05:00:00Z"]
    assert not any("None" in line for line in lines)


def test_a_training_run_shows_the_config_version_that_started_it():
    requested = {"model_name": "pt", "requested_at": "2026-11-24T05:00:00Z",
                 "config": {"bucket": "b", "key": "configs/train/pt.json", "version_id": "v1", "etag": "e"}}

    assert run_facts(requested) == ["model: pt   requested: 2026-11-24T05:00:00Z", "config: s3://b/configs/train/pt.json (version v1)"]
