"""Monitor step (SageMaker Processing): an inference run's items and predictions checked against the training baseline.

Reads the items the Prepare step selected (features, headerless, in the
model's order), the batch transform's predictions, and the approved version's
baseline (statistics.json, constraints.json, attributions.json from its
training run's Evaluate step). Writes, under --output:
- statistics.json of this run's items and constraint_violations.json (Model
  Monitor's formats);
- attributions.json (mean |SHAP| on a sample of the items) and its NDCG against
  training's ranking (Clarify's rule: attribution drift below 0.9);
- report.html (distributions baseline against now, the drift table, the
  attribution ranks);
- monitoring.json, the summary the workflow decides and alerts on;
- rows.csv and manifest.json, the results as warehouse rows (COPY by manifest).
"""

import argparse
import csv
import glob
import json
import os
import sys
import time

import pandas as pd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", default="/opt/ml/processing/input/items")
    parser.add_argument("--selection", default="/opt/ml/processing/input/selection")
    parser.add_argument("--ids", default="/opt/ml/processing/input/ids", help="the items' ids (explanations name them)")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--baseline", default="/opt/ml/processing/input/baseline")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    parser.add_argument("--output", default="/opt/ml/processing/monitoring")
    parser.add_argument("--output-uri", required=True, help="where --output is uploaded (for the report's link)")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    started = time.monotonic()

    spec = read_json(args.spec, "spec.json")
    os.makedirs(args.output, exist_ok=True)
    baseline = {name: read_json(args.baseline, f"{name}.json", missing_ok=True)
                for name in ("statistics", "constraints", "attributions", "shap_background")}
    if not baseline["statistics"] or not baseline["constraints"]:
        summary = {**identity(spec), "baseline": "missing", "rows": 0, "violations": 0, "drifted": [], "drifted_count": 0,
                   "blocking": False, "attribution_drift": False, "ndcg": None}
        write_json(args.output, "monitoring.json", summary)
        write_rows(args.output, args.output_uri, [])
        print(f"no monitoring baseline under {args.baseline}: the approved version was trained before monitoring existed")
        return
    table = read_items(args.items, spec["feature_columns"], spec.get("layout", "header"))
    predictions = read_predictions(args.predictions, spec["task"], args.baseline)
    if len(predictions) != len(table):
        sys.exit(f"{len(table)} items but {len(predictions)} predictions: the transform output is incomplete")
    summary = monitor(spec, baseline, table, predictions, read_selection(args.selection), args.output, args.output_uri, args.ids)
    summary["seconds"] = round(time.monotonic() - started, 3)
    write_json(args.output, "monitoring.json", summary)
    drifted = ", ".join(f"{d['feature']} ({d['method']} {d['statistic']:.3f})" for d in summary["drifted"]) or "none"
    print(f"checked {summary['rows']} rows: {summary['violations']} violation(s); drifted: {drifted}; NDCG {summary['ndcg']}")
    if explained := summary.get("explanations"):
        sample = f" (a random sample of {explained['items']:,} of {explained['of']:,})" if explained["sampled"] else ""
        print(f"explained {explained['items']:,} items{sample}: their top {explained['k']} features, {explained['rows']:,} rows")


def monitor(spec, baseline, table, predictions, selection, output, output_uri, ids_directory=None):
    import attribution
    import data_profile
    import drift
    import explanations
    import report_html

    settings, features = spec["monitoring"], spec["feature_columns"]
    current = data_profile.statistics(table, features)
    known = set(baseline["statistics"]["dataset"].get("columns", features)) | {spec["id_column"], spec["added_at_column"]}
    extra = [c for c in selection.get("columns", []) if c not in known]
    violations, results = drift.check(baseline["statistics"], baseline["constraints"], table, features, settings, extra)
    trained = (baseline["attributions"] or {}).get("features", {})
    ndcg, now = None, {}
    if len(table) >= settings["attribution_min_rows"] and trained:
        sample = attribution.global_importance(
            table, predictions, spec["task"], features, data_profile.domains(baseline["constraints"]), settings["attribution_sample_rows"],
        )
        now, ndcg = sample["features"], attribution.ndcg(trained, sample["features"])
        write_json(output, "attributions.json", sample)
    explained = None
    if ids_directory is not None and settings.get("explain_predictions"):
        explained = explanations.explain(spec, baseline, table, predictions, explanations.read_ids(ids_directory),
                                         data_profile.domains(baseline["constraints"]), output, output_uri)
    drifted = sorted((r for r in results if r["drifted"]), key=lambda r: -severity(r))
    blocking = settings["on_violation"] == "block" and any(v["constraint_check_type"] != "extra_column_check" for v in violations)
    summary = {
        **identity(spec), "rows": int(len(table)), "baseline_rows": baseline["statistics"]["dataset"]["item_count"],
        "violations": len(violations), "violations_by_check": count_by_check(violations),
        "drifted": [{k: r[k] for k in ("feature", "method", "statistic", "p_value", "threshold")} for r in drifted],
        "drifted_count": len(drifted),
        "other_violations": [v for v in violations if v["constraint_check_type"] != "baseline_drift_check"][:20],
        "ndcg": ndcg, "ndcg_threshold": settings["attribution_ndcg_threshold"],
        "attribution_drift": ndcg is not None and ndcg < settings["attribution_ndcg_threshold"],
        "top_features": {"training": list(trained)[:5], "now": list(now)[:5]},
        "on_violation": settings["on_violation"], "blocking": blocking,
        "report_uri": f"{output_uri.rstrip('/')}/report.html",
        "explanations": explained,
    }
    write_json(output, "statistics.json", current)
    write_json(output, "constraint_violations.json", {"violations": violations})
    with open(os.path.join(output, "report.html"), "w") as handle:
        handle.write(report_html.render(summary, baseline["statistics"], current, results, violations, trained, now))
    write_rows(output, output_uri, warehouse_rows(results, violations, summary))
    return summary


def severity(result):
    """How far past its threshold a drift result is (p-value tests: how far below)."""
    if result["p_value"] is not None:
        return result["threshold"] / max(result["p_value"], 1e-300)
    return result["statistic"] / result["threshold"]


def identity(spec):
    return {key: spec.get(key) for key in ("run_id", "model_name", "model_version", "mode")}


def count_by_check(violations):
    counts = {}
    for v in violations:
        counts[v["constraint_check_type"]] = counts.get(v["constraint_check_type"], 0) + 1
    return counts


def warehouse_rows(results, violations, summary):
    """feature, check_type, method, statistic, p_value, threshold, violated, description."""
    rows = [[r["feature"], "baseline_drift_check", r["method"], r["statistic"], r["p_value"], r["threshold"], int(r["drifted"]), ""]
            for r in results]
    rows += [[v["feature_name"][:256], v["constraint_check_type"], "", None, None, None, 1, v["description"][:1000]]
             for v in violations if v["constraint_check_type"] != "baseline_drift_check"]
    if summary["ndcg"] is not None:
        drifted = int(summary["attribution_drift"])
        rows.append(["*", "attribution_ndcg", "ndcg", summary["ndcg"], None, summary["ndcg_threshold"], drifted, ""])
    return rows


def write_rows(output, output_uri, rows):
    """rows.csv (empty fields load as NULL) and the COPY manifest naming it."""
    path = os.path.join(output, "rows.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(["" if value is None else (repr(value) if isinstance(value, float) else value) for value in row])
    entry = {"url": f"{output_uri.rstrip('/')}/rows.csv", "mandatory": True, "meta": {"content_length": os.path.getsize(path)}}
    write_json(output, "manifest.json", {"entries": [entry] if rows else []})


def read_items(directory, features, layout="header"):
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if layout == "libsvm":  # the Prepare step's parts keep their .csv names, for the ids they pair with
        import libsvm

        frames = [libsvm.read(p, "_label", features).drop(columns="_label") for p in paths if os.path.getsize(p)]
    else:
        frames = [pd.read_csv(p, header=None, names=features) for p in paths if os.path.getsize(p)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=features)


def read_predictions(directory, task, baseline):
    from prediction_lines import ClassNumbers, predicted, read_lines, read_prediction, schema_in

    classes = ClassNumbers(schema_in(baseline))
    # An empty selection may leave no output at all: the item count check below says whether that is right.
    return [predicted(read_prediction(line, task, classes), task) for line in read_lines(directory, required=False)]


def read_selection(directory):
    return read_json(directory, "selection.json", missing_ok=True) or {}


def read_json(directory, name, missing_ok=False):
    path = os.path.join(directory, name)
    if missing_ok and not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def write_json(directory, name, document):
    from data_profile import finite

    with open(os.path.join(directory, name), "w") as handle:
        json.dump(finite(document), handle, indent=1, allow_nan=False)


if __name__ == "__main__":
    main()
