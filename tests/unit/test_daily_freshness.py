from datetime import UTC, datetime, timedelta

from chalicelib.inference.plan import is_stale
from tests.unit.test_alert_content import alert_for

NOW = datetime(2026, 11, 24, 17, tzinfo=UTC)


def test_a_daily_run_within_36_hours_is_fresh_and_beyond_is_stale():
    assert not is_stale(NOW, NOW - timedelta(hours=35), NOW - timedelta(days=30))
    assert is_stale(NOW, NOW - timedelta(hours=37), NOW - timedelta(days=30))


def test_a_newly_approved_model_gets_36_hours_before_it_counts_as_stale():
    assert not is_stale(NOW, None, NOW - timedelta(hours=10))
    assert is_stale(NOW, None, NOW - timedelta(hours=40))


def test_the_notice_says_so_once_a_day_per_model():
    notice = {"kind": "daily_inference_stale", "model_name": "pt", "last_success": None}
    first = alert_for({**notice, "checked_at": "2026-11-24T17:00:00Z"}, "us-east-1")
    later = alert_for({**notice, "checked_at": "2026-11-24T18:00:00Z"}, "us-east-1")

    assert first.title == "⏰ no daily predictions for pt in over 36 hours"
    assert first.collapse_key == later.collapse_key
    assert "Last successful daily run: never" in first.sns_body()
