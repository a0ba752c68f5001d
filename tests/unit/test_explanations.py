"""The Monitor step's local explanations: each item's top K features by SHAP value, against the training background."""

import sys
from pathlib import Path

import pandas as pd

from chalicelib.config.schema import MonitoringSettings
from mlrelay.synthetic import FEATURE_COLUMNS, synthesize

SCRIPTS = Path(__file__).resolve().parents[2] / "pipelines" / "scripts"
sys.path.insert(0, str(SCRIPTS))

import attribution  # noqa: E402
import data_profile  # noqa: E402
import explanations  # noqa: E402

FEATURES = list(FEATURE_COLUMNS)


def run(tmp_path, items, settings):
    train = synthesize(2000, seed=1)
    statistics = data_profile.statistics(train, FEATURES)
    domains = data_profile.domains(data_profile.constraints(statistics, data_profile.monitoring_config(settings)))
    baseline = {"shap_background": attribution.background_summary(train, FEATURES, domains)}
    spec = {"monitoring": settings, "feature_columns": FEATURES, "task": "multiclass_classification"}
    ids = [f"item-{i}" for i in range(len(items))]
    summary = explanations.explain(spec, baseline, items, items["package_type"].tolist(), ids, domains, str(tmp_path), "s3://b/m")
    parts = sorted((tmp_path / "explanations").glob("part-*.csv"))
    rows = pd.concat([pd.read_csv(p, header=None, names=["item_id", "rank", "feature", "value", "attribution", "explained"],
                                  keep_default_na=False) for p in parts]) if parts else pd.DataFrame()
    return summary, rows, baseline["shap_background"]


def test_each_item_gets_its_top_k_features_ranked_by_absolute_shap_value_for_its_predicted_class(tmp_path):
    items = synthesize(600, seed=2)
    summary, rows, background = run(tmp_path, items, {**MonitoringSettings().resolved(), "explain_predictions": 3})

    assert len(background["rows"]) == 10 and len(background["rows"][0]) == len(FEATURES)
    assert summary["items"] == summary["of"] == 600 and summary["rows"] == len(rows) == 1800 and not summary["sampled"]
    assert set(rows.groupby("item_id")["rank"].apply(tuple)) == {(1, 2, 3)}
    ordered = rows.assign(size=rows["attribution"].abs()).groupby("item_id")["size"].apply(lambda s: s.is_monotonic_decreasing)
    assert ordered.all() and set(rows["feature"]) <= set(FEATURES)
    first = rows[rows["item_id"] == "item-0"]
    assert first["explained"].tolist() == [items["package_type"][0]] * 3
    assert [str(items[f][0]) for f in first["feature"]] == first["value"].astype(str).tolist()


def test_a_class_predicted_once_is_explained_as_itself_however_small_the_surrogates_sample(tmp_path):
    items = synthesize(400, seed=4)
    items.loc[7, "package_type"] = "RARE"  # the model's prediction for one item only
    settings = {**MonitoringSettings().resolved(), "explain_predictions": 2, "attribution_sample_rows": 50}

    _, rows, _ = run(tmp_path, items, settings)

    assert rows[rows["item_id"] == "item-7"]["explained"].tolist() == ["RARE", "RARE"]
    assert (rows.groupby("item_id")["explained"].first() == items["package_type"].set_axis([f"item-{i}" for i in range(400)])
            .loc[rows.groupby("item_id")["explained"].first().index]).all()


def test_a_run_over_the_limit_explains_a_sample_and_says_so_and_zero_asks_for_nothing(tmp_path):
    items = synthesize(500, seed=3)
    settings = {**MonitoringSettings().resolved(), "explain_predictions": 2, "explain_max_items": 100}

    summary, rows, _ = run(tmp_path / "sampled", items, settings)
    nothing, _, _ = run(tmp_path / "none", items, MonitoringSettings().resolved())

    assert (summary["items"], summary["of"], summary["sampled"], rows["item_id"].nunique()) == (100, 500, True, 100)
    assert nothing is None
