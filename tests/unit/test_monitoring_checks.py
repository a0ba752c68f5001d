"""The Monitor and Evaluate steps' modules: profiles in Model Monitor's formats, drift tests, SHAP ranks, the report."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chalicelib.config.schema import MonitoringSettings
from mlrelay.synthetic import FEATURE_COLUMNS, synthesize

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "pipelines" / "scripts"
sys.path.insert(0, str(SCRIPTS))

import attribution  # noqa: E402
import data_profile  # noqa: E402
import drift  # noqa: E402
import report_html  # noqa: E402

FEATURES = list(FEATURE_COLUMNS)
SETTINGS = MonitoringSettings().resolved()


@pytest.fixture(scope="module")
def baseline():
    table = synthesize(4000, seed=1)
    stats = data_profile.statistics(table, FEATURES)
    return table, stats, data_profile.constraints(stats, data_profile.monitoring_config(SETTINGS))


def violations_for(baseline, table, settings=SETTINGS):
    _, stats, constraints = baseline
    return drift.check(stats, constraints, table, FEATURES, settings)


def test_the_baseline_has_model_monitors_shapes(baseline):
    _, stats, constraints = baseline
    features = {f["name"]: f for f in stats["features"]}

    assert stats["dataset"]["item_count"] == 4000 and set(features) == set(FEATURES)
    assert features["length_cm"]["inferred_type"] == "Fractional" and features["fragile"]["inferred_type"] == "Integral"
    numbers = features["length_cm"]["numerical_statistics"]
    assert numbers["common"] == {"num_present": 4000, "num_missing": 0} and len(numbers["distribution"]["kll"]["buckets"]) == 10
    assert len(numbers["distribution"]["kll"]["sketch"]["data"][0]) == data_profile.SKETCH_SIZE
    assert features["category"]["string_statistics"]["distinct_count"] == 6.0
    limits = {f["name"]: f for f in constraints["features"]}
    assert sorted(limits["material"]["string_constraints"]["domains"]) == ["fabric", "glass", "metal", "paper", "plastic", "wood"]
    assert limits["price"]["num_constraints"] == {"is_non_negative": True} and limits["price"]["completeness"] == 1.0
    config = constraints["monitoring_config"]
    assert config["evaluate_constraints"] == "Enabled" and config["distribution_constraints"]["thresholds"]["wasserstein"] == 0.1
    json.dumps(stats, allow_nan=False)  # a JSON document any reader takes


@pytest.mark.parametrize("rows", [300, 3000])  # the p-value tests, then the distance tests
def test_a_resample_of_the_training_table_does_not_drift(baseline, rows):
    table = baseline[0].sample(rows, replace=True, random_state=3)

    violations, results = violations_for(baseline, table)

    assert violations == []
    methods = {r["feature"]: r["method"] for r in results}
    assert methods["length_cm"] == ("ks" if rows <= 1000 else "wasserstein")
    assert methods["category"] == ("chisquare" if rows <= 1000 else "jensen_shannon")


def test_larger_items_and_another_category_mix_drift_and_name_their_features(baseline):
    violations, results = violations_for(baseline, synthesize(3000, seed=2, drift="size"))
    drifted = {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    assert {"length_cm", "height_cm", "weight_g"} <= drifted and "category" not in drifted

    violations, _ = violations_for(baseline, synthesize(3000, seed=2, drift="mix"))
    assert {v["feature_name"] for v in violations} >= {"category"}


def test_a_new_category_a_missing_column_a_type_change_and_gaps_are_each_named(baseline):
    table = synthesize(500, seed=4)
    table.loc[:49, "material"] = "bamboo"
    table["price"] = table["price"].astype(object)
    table.loc[:9, "price"] = "n/a"
    table.loc[:99, "width_cm"] = np.nan
    table = table.drop(columns=["fragile"])

    violations, _ = violations_for(baseline, table)

    found = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert {("material", "categorical_values_check"), ("fragile", "missing_column_check"),
            ("price", "data_type_check"), ("width_cm", "completeness_check")} <= found
    unseen = next(v for v in violations if v["constraint_check_type"] == "categorical_values_check")
    assert "bamboo (50)" in unseen["description"]


def test_a_feature_can_have_its_own_test_and_threshold(baseline):
    settings = {**SETTINGS, "features": {"length_cm": {"method": "psi", "threshold": 5.0}}}

    violations, results = violations_for(baseline, synthesize(3000, seed=2, drift="size"), settings)

    length = next(r for r in results if r["feature"] == "length_cm")
    assert (length["method"], length["threshold"], length["drifted"]) == ("psi", 5.0, False)
    assert "length_cm" not in {v["feature_name"] for v in violations}


def test_shap_attributions_rank_the_features_the_model_uses_and_ndcg_follows_clarify():
    table = synthesize(1500, seed=1)
    domains = {"material": sorted(table["material"].unique()), "category": sorted(table["category"].unique())}
    by_weight = np.where(table["weight_g"] > 1000, "heavy", "light")

    importance = attribution.global_importance(table, by_weight, "binary_classification", FEATURES, domains, 500)

    assert list(importance["features"])[0] == "weight_g" and importance["fidelity"] > 0.95 and importance["rows"] == 500
    ranking = importance["features"]
    assert attribution.ndcg(ranking, ranking) == pytest.approx(1.0)
    reversed_ranking = {name: -value for name, value in ranking.items()}
    assert attribution.ndcg(ranking, reversed_ranking) < 0.9


def test_the_report_is_one_page_with_the_drift_table_and_charts(baseline):
    _, stats, constraints = baseline
    table = synthesize(3000, seed=2, drift="size")
    violations, results = drift.check(stats, constraints, table, FEATURES, SETTINGS)
    summary = {"model_name": "packaging-type", "model_version": 3, "run_id": "infer-x", "rows": 3000, "baseline_rows": 4000,
               "drifted_count": 3, "ndcg": 0.8, "ndcg_threshold": 0.9}

    page = report_html.render(summary, stats, data_profile.statistics(table, FEATURES), results, violations,
                              {"weight_g": 0.5, "length_cm": 0.2}, {"weight_g": 0.1, "length_cm": 0.4})

    assert page.startswith("<!doctype html>") and "<script" not in page
    assert page.count("<svg") == len(FEATURES) and "class='drifted'><td>length_cm" in page
    assert "packaging-type v3: run infer-x" in page and "NDCG 0.800" in page


def test_the_monitor_step_writes_every_document_for_a_run(tmp_path):
    """The script as the processing job runs it: items and predictions in, Model Monitor's documents out."""
    train = synthesize(2000, seed=1)
    baseline_dir, spec_dir = tmp_path / "baseline", tmp_path / "spec"
    baseline_dir.mkdir(), spec_dir.mkdir()
    stats = data_profile.statistics(train, FEATURES)
    constraints = data_profile.constraints(stats, data_profile.monitoring_config(SETTINGS))
    (baseline_dir / "statistics.json").write_text(json.dumps(stats))
    (baseline_dir / "constraints.json").write_text(json.dumps(constraints))
    (baseline_dir / "attributions.json").write_text(json.dumps({"features": {"weight_g": 0.6, "height_cm": 0.3, "price": 0.01}}))
    spec = {"task": "multiclass_classification", "feature_columns": FEATURES, "id_column": "item_id", "added_at_column": "added_at",
            "run_id": "infer-m", "model_name": "m", "model_version": 2, "mode": "monthly", "monitoring": SETTINGS}
    (spec_dir / "spec.json").write_text(json.dumps(spec))
    items = synthesize(1200, seed=9, drift="size")
    (tmp_path / "items").mkdir(), (tmp_path / "predictions").mkdir(), (tmp_path / "selection").mkdir()
    items[FEATURES].to_csv(tmp_path / "items" / "part-00000.csv", index=False, header=False)
    labels = [json.dumps({"label": label}) for label in items["package_type"]]
    (tmp_path / "predictions" / "part-00000.csv.out").write_text("\n".join(labels) + "\n")
    (tmp_path / "selection" / "selection.json").write_text(json.dumps({"columns": [*items.columns, "supplier"]}))
    out = tmp_path / "out"

    subprocess.run(
        [sys.executable, str(SCRIPTS / "monitor.py"), "--items", str(tmp_path / "items"), "--selection", str(tmp_path / "selection"),
         "--predictions", str(tmp_path / "predictions"), "--baseline", str(baseline_dir), "--spec", str(spec_dir),
         "--library", str(SCRIPTS), "--output", str(out), "--output-uri", "s3://b/runs/m/infer-m/monitoring"],
        check=True, capture_output=True,
    )

    summary = json.loads((out / "monitoring.json").read_text())
    assert summary["rows"] == 1200 and summary["blocking"] is False and summary["report_uri"].endswith("/report.html")
    assert {d["feature"] for d in summary["drifted"]} >= {"length_cm", "height_cm", "weight_g"}
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    checks = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("supplier", "extra_column_check") in checks and ("package_type", "extra_column_check") in checks
    assert 0 <= summary["ndcg"] <= 1 and (out / "report.html").stat().st_size > 1000
    rows = (out / "rows.csv").read_text().splitlines()
    assert len(rows) == len(FEATURES) + 2 + 1  # one test per feature, the two extra columns, the NDCG
    assert json.loads((out / "manifest.json").read_text())["entries"][0]["url"] == "s3://b/runs/m/infer-m/monitoring/rows.csv"


def test_a_quiet_day_is_not_tested_for_drift_and_p_values_are_corrected_for_the_features_tested(baseline):
    violations, results = violations_for(baseline, synthesize(20, seed=2, drift="size"))
    assert results == [] and violations == []  # 20 rows: below drift_min_rows, nothing to say

    _, results = violations_for(baseline, synthesize(300, seed=5))
    assert {r["threshold"] for r in results} == {0.05 / len(FEATURES)}


def test_a_run_too_small_to_rank_features_still_gets_its_report(baseline):
    _, stats, _ = baseline
    summary = {"model_name": "m", "model_version": 1, "run_id": "infer-d", "rows": 6, "baseline_rows": 4000,
               "drifted_count": 0, "ndcg": None, "ndcg_threshold": 0.9}

    page = report_html.render(summary, stats, data_profile.statistics(synthesize(6, seed=1), FEATURES), [], [], {"weight_g": 0.5}, {})

    assert "Attribution NDCG not computed (too few rows to rank features)" in page


def test_a_feature_the_training_table_never_filled_is_not_tested_for_drift_and_its_new_values_are_named():
    train = synthesize(500, seed=1).assign(price=np.nan, material=None)
    stats = data_profile.statistics(train, FEATURES)
    constraints = data_profile.constraints(stats, data_profile.monitoring_config(SETTINGS))

    violations, results = drift.check(stats, constraints, synthesize(500, seed=2), FEATURES, SETTINGS)

    assert {"price", "material"}.isdisjoint(r["feature"] for r in results)
    assert {c["name"]: c["completeness"] for c in constraints["features"]}["price"] == 0.0
    named = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("material", "categorical_values_check") in named  # every value is one the model never saw
    assert not {name for name, _ in named} & {"price"}
