"""What a run's monitoring summary (runs/<model>/<run>/monitoring/monitoring.json) means for the run: pure functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.shared.messages import DataDriftDetected, DriftedFeature

MAX_FEATURES_IN_ALERT = 10


def needs_alert(summary: dict[str, Any]) -> bool:
    return bool(summary.get("violations")) or bool(summary.get("attribution_drift"))


def drift_notice(summary: dict[str, Any], occurred_at: datetime) -> DataDriftDetected:
    """The one alert a run's violations and attribution drift send, worst features first."""
    features = [
        DriftedFeature(feature=d["feature"], check="baseline_drift_check", detail=_distance(d)) for d in summary.get("drifted", [])
    ]
    features += [DriftedFeature(feature=v["feature_name"], check=v["constraint_check_type"], detail=v["description"])
                 for v in summary.get("other_violations", [])]
    top = summary.get("top_features", {})
    return DataDriftDetected(
        run_id=summary["run_id"], model_name=summary["model_name"], model_version=int(summary["model_version"]),
        mode=summary["mode"], rows=int(summary["rows"]), violations=int(summary["violations"]),
        features=features[:MAX_FEATURES_IN_ALERT], ndcg=summary.get("ndcg"), ndcg_threshold=summary.get("ndcg_threshold", 0.9),
        attribution_drift=bool(summary.get("attribution_drift")), top_features_training=top.get("training", []),
        top_features_now=top.get("now", []), report_uri=summary.get("report_uri", ""), loaded=not summary.get("blocking"),
        occurred_at=occurred_at,
    )


def blocking_cause(summary: dict[str, Any]) -> str:
    """Why a blocked run loaded nothing, and what to do: the failure alert's cause."""
    notice = drift_notice(summary, datetime.min)
    named = "; ".join(f"{f.feature} ({f.detail})" for f in notice.features)
    return (
        f"{notice.violations} data-quality violation(s) in {notice.rows:,} items, so the predictions were not loaded "
        f"(monitoring.on_violation: block): {named}. Report: {notice.report_uri}. Fix the catalogue and start a new run "
        "(resuming this one checks the same items again); to load despite violations, set monitoring.on_violation to warn "
        "in the config and train it again (inference follows the approved version's config)."
    )


def _distance(drifted: dict[str, Any]) -> str:
    if drifted.get("p_value") is not None:
        return f"{drifted['method']} p={drifted['p_value']:.2g} < {drifted['threshold']:g} (statistic {drifted['statistic']:.3f})"
    return f"{drifted['method']} {drifted['statistic']:.3f} >= {drifted['threshold']:g}"
