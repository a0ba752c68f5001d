"""What the inference workflow makes of a run's monitoring summary: the alert, the block, the warehouse rows."""

from datetime import UTC, datetime

import pytest

from chalicelib.alerts.content import alert_for
from chalicelib.alerts.plan import notice_kind
from chalicelib.inference.monitoring import blocking_cause, drift_notice, needs_alert
from chalicelib.inference.warehouse_sql import LoadRequest, PredictionsTable, UnsafeSqlValueError, monitoring_sqls
from chalicelib.shared.messages import alert_messages

SUMMARY = {
    "run_id": "infer-packaging-type-monthly-2026-12", "model_name": "packaging-type", "model_version": 3, "mode": "monthly",
    "rows": 4000, "violations": 2, "blocking": False,
    "drifted": [{"feature": "length_cm", "method": "wasserstein", "statistic": 0.41, "p_value": None, "threshold": 0.1}],
    "other_violations": [{"feature_name": "material", "constraint_check_type": "categorical_values_check",
                          "description": "2.5% of values are not in the baseline: bamboo (100)"}],
    "ndcg": 0.82, "ndcg_threshold": 0.9, "attribution_drift": True,
    "top_features": {"training": ["weight_g", "length_cm"], "now": ["length_cm", "weight_g"]},
    "report_uri": "s3://bucket/runs/packaging-type/infer-packaging-type-monthly-2026-12/monitoring/report.html",
}
REQUEST = LoadRequest(
    run_id="infer-packaging-type-monthly-2026-12", model_name="packaging-type", model_version=3, mode="monthly",
    predicted_at="2026-12-01 06:00:00", manifest_uri="s3://bucket-1/runs/packaging-type/infer-x/monitoring/manifest.json",
    iam_role_arn="arn:aws:iam::123456789012:role/copy",
)


def test_a_drifted_run_makes_one_alert_naming_features_distances_ndcg_and_the_report():
    notice = drift_notice(SUMMARY, datetime(2026, 12, 1, 6, 5, tzinfo=UTC))
    message = alert_messages.validate_python(notice.model_dump(mode="json"))  # as the alerts consumer reads it

    alert = alert_for(message, "eu-west-1", cli="mlrelay --stage prod")

    assert alert.title == "⚠️ packaging-type v3: 2 violation(s) in the monthly run's 4,000 items"
    assert "length_cm: baseline drift, wasserstein 0.410 >= 0.1" in alert.detail
    assert "material: categorical values, 2.5% of values are not in the baseline: bamboo (100)" in alert.detail
    assert "SHAP ranking NDCG 0.820 (below 0.9" in alert.detail and "training: weight_g, length_cm" in alert.detail
    assert ("Report", SUMMARY["report_uri"]) in alert.fields
    assert "`mlrelay --stage prod monitor show infer-packaging-type-monthly-2026-12`" in alert.actions[0]
    assert notice_kind(message) == "failure"  # people who hear of failures hear of drift


def test_a_clean_run_needs_no_alert_and_a_blocked_one_says_why_and_what_to_do():
    assert not needs_alert({**SUMMARY, "violations": 0, "attribution_drift": False})
    assert needs_alert({**SUMMARY, "violations": 0})  # the ranking moved

    cause = blocking_cause({**SUMMARY, "blocking": True})

    assert cause.startswith("2 data-quality violation(s) in 4,000 items, so the predictions were not loaded")
    assert "length_cm (wasserstein 0.410 >= 0.1)" in cause and SUMMARY["report_uri"] in cause
    assert "set monitoring.on_violation to warn" in cause


def test_monitoring_rows_replace_the_runs_earlier_ones_in_one_batch():
    target = PredictionsTable("mlrelay", "predictions")

    with_rows = monitoring_sqls(target, REQUEST, has_rows=True)
    without = monitoring_sqls(target, REQUEST, has_rows=False)

    assert with_rows[0].startswith("CREATE TABLE IF NOT EXISTS mlrelay.model_monitoring")
    assert with_rows[1] == "DELETE FROM mlrelay.model_monitoring WHERE run_id = 'infer-packaging-type-monthly-2026-12'"
    assert any(s.startswith("COPY monitor_") and "MANIFEST EMPTYASNULL" in s for s in with_rows)
    assert with_rows[-2].startswith("INSERT INTO mlrelay.model_monitoring") and with_rows[-1].startswith("DROP TABLE monitor_")
    assert without == with_rows[:2]  # nothing to copy: only the earlier rows go
    with pytest.raises(UnsafeSqlValueError):
        monitoring_sqls(target, LoadRequest(**{**REQUEST.__dict__, "run_id": "x'; DROP TABLE t; --"}), has_rows=True)
