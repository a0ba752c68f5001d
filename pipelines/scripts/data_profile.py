"""A table's data-quality profile in SageMaker Model Monitor's formats: statistics.json and constraints.json.

Shared by the Evaluate step (the training baseline) and the Monitor step
(each inference run). Per feature: the inferred type (Integral, Fractional,
String), completeness, and the distribution: for numbers ten equal-width
buckets and a sample of at most SKETCH_SIZE values (where Model Monitor keeps
its KLL sketch), which the drift tests compare against; for strings the count
of each value (the most frequent MAX_CATEGORIES).
"""

import math

import numpy as np
import pandas as pd

SKETCH_SIZE = 2048
MAX_CATEGORIES = 200
BUCKETS = 10


def inferred_type(column):
    values = column.dropna()
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return "Integral"
    if pd.api.types.is_numeric_dtype(values):
        return "Integral" if len(values) and np.all(np.mod(values, 1) == 0) else "Fractional"
    numbers = pd.to_numeric(values, errors="coerce")
    if len(values) and numbers.notna().all():
        return "Integral" if np.all(np.mod(numbers, 1) == 0) else "Fractional"
    return "String"


def statistics(table, features, seed=0):
    """statistics.json for the given feature columns of a table."""
    rng = np.random.default_rng(seed)
    return {
        "version": 0.0,
        "dataset": {"item_count": int(len(table))},
        "features": [feature_statistics(name, table[name], rng) for name in features if name in table.columns],
    }


def feature_statistics(name, column, rng):
    kind = inferred_type(column)
    present = column.dropna()
    common = {"num_present": int(len(present)), "num_missing": int(len(column) - len(present))}
    if kind == "String":
        counts = present.astype(str).value_counts()
        buckets = [{"value": str(v), "count": int(c)} for v, c in counts.head(MAX_CATEGORIES).items()]
        return {"name": name, "inferred_type": kind, "string_statistics": {
            "common": common, "distinct_count": float(len(counts)), "distribution": {"categorical": {"buckets": buckets}},
        }}
    values = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
    sample = values if len(values) <= SKETCH_SIZE else rng.choice(values, SKETCH_SIZE, replace=False)
    described = {"mean": 0.0, "sum": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0, "buckets": []}
    if len(values):
        counts, edges = np.histogram(values, bins=BUCKETS)
        described = {
            "mean": float(values.mean()), "sum": float(values.sum()), "std_dev": float(values.std()),
            "min": float(values.min()), "max": float(values.max()),
            "buckets": [{"lower_bound": float(lo), "upper_bound": float(hi), "count": float(n)}
                        for lo, hi, n in zip(edges[:-1], edges[1:], counts)],
        }
    buckets = described.pop("buckets")
    return {"name": name, "inferred_type": kind, "numerical_statistics": {
        "common": common, **described,
        "distribution": {"kll": {
            "buckets": buckets,
            # A uniform sample stands in for the KLL sketch's values: the drift tests need values, not only buckets.
            "sketch": {"parameters": {"c": 0.64, "k": float(SKETCH_SIZE)}, "data": [sorted(float(v) for v in sample)]},
        }},
    }}


def constraints(stats, monitoring_config):
    """constraints.json suggested from a baseline's statistics, with the run's comparison thresholds."""
    features = []
    for feature in stats["features"]:
        section = feature.get("numerical_statistics") or feature["string_statistics"]
        common = section["common"]
        total = common["num_present"] + common["num_missing"]
        entry = {"name": feature["name"], "inferred_type": feature["inferred_type"],
                 "completeness": common["num_present"] / total if total else 1.0}
        if feature["inferred_type"] == "String":
            entry["string_constraints"] = {"domains": [b["value"] for b in section["distribution"]["categorical"]["buckets"]]}
        else:
            entry["num_constraints"] = {"is_non_negative": section["min"] >= 0}
        features.append(entry)
    return {"version": 0.0, "features": features, "monitoring_config": monitoring_config}


def numeric_sample(feature):
    return np.array(feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0], dtype=float)


def category_counts(feature):
    return {b["value"]: b["count"] for b in feature["string_statistics"]["distribution"]["categorical"]["buckets"]}


def monitoring_config(settings):
    """constraints.json's monitoring_config: Model Monitor's keys, and the run's drift tests and thresholds."""
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": settings["domain_content_threshold"],
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_method": "mlrelay",
            "numeric_method": settings["numeric_method"],
            "categorical_method": settings["categorical_method"],
            "large_sample_rows": settings["large_sample_rows"],
            "thresholds": settings["thresholds"],
        },
        "monitoringConfigOverrides": settings.get("features", {}),
    }


def domains(constraints_document):
    """{feature: its baseline values} for the String features."""
    return {f["name"]: f["string_constraints"]["domains"] for f in constraints_document["features"] if "string_constraints" in f}


def finite(value):
    """JSON readers and DynamoDB take no NaN: an undefined number is null."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
