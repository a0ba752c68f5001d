"""A table checked against its baseline: Model Monitor's constraint checks and one drift test per feature.

Default tests (after Evidently's defaults), each overridable per model and per
feature in the config's `monitoring` section:
- numbers: two-sample Kolmogorov-Smirnov (drift when p < 0.05) up to
  `large_sample_rows` rows (1,000), above that the Wasserstein distance divided
  by the baseline's standard deviation (drift at 0.1 or more);
- categories: chi-squared goodness of fit against the baseline's shares
  (p < 0.05) up to `large_sample_rows`, above that the Jensen-Shannon distance
  (base 2, drift at 0.1 or more);
- PSI over ten baseline-quantile bins (or the categories), drift at 0.2 or
  more, for either kind when asked for.
The p-value tests' threshold is divided by the number of features tested
(Bonferroni), so a catalogue that has not moved rarely alerts by chance; fewer
rows than `drift_min_rows` are not tested at all.
"""

import data_profile
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from scipy.spatial.distance import jensenshannon

P_VALUE_TESTS = {"ks", "chisquare"}
DEFAULT_THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "wasserstein": 0.1, "jensen_shannon": 0.1, "psi": 0.2}
NUMERIC_METHODS = {"ks", "wasserstein", "psi"}
CATEGORICAL_METHODS = {"chisquare", "jensen_shannon", "psi"}
OTHER = "<unseen>"
EPSILON = 1e-4


def check(baseline_stats, baseline_constraints, table, features, settings, extra_columns=()):
    """(violations in constraint_violations.json's shape, one drift result per feature)."""
    config = baseline_constraints.get("monitoring_config", {})
    baseline = {f["name"]: f for f in baseline_stats["features"]}
    limits = {f["name"]: f for f in baseline_constraints["features"]}
    violations = [violation(c, "extra_column_check", f"column {c} is in the catalogue but was not in the training table")
                  for c in extra_columns]
    results = []
    tested = [name for name in features if name in baseline and name in table.columns]
    settings = {**settings, "tests": max(len(tested), 1)}
    for name in features:
        if name not in baseline:
            continue
        if name not in table.columns:
            violations.append(violation(name, "missing_column_check", f"column {name} is missing from the data"))
            continue
        column, expected = table[name], baseline[name]
        violations += constraint_checks(name, column, expected, limits.get(name, {}), config, settings)
        result = drift_test(name, column, expected, settings)
        if result:
            results.append(result)
            if result["drifted"]:
                violations.append(violation(name, "baseline_drift_check", drift_description(result)))
    return violations, results


def constraint_checks(name, column, expected, limit, config, settings):
    found = []
    present = column.dropna()
    completeness = len(present) / len(column) if len(column) else 1.0
    baseline_completeness = limit.get("completeness", 1.0)
    if completeness < baseline_completeness - settings["completeness_tolerance"]:
        found.append(violation(name, "completeness_check",
                               f"{completeness:.1%} of values present, baseline {baseline_completeness:.1%}"))
    if expected["inferred_type"] != "String" and len(present):
        numeric_share = float(pd.to_numeric(present, errors="coerce").notna().mean())
        if numeric_share < config.get("datatype_check_threshold", 1.0):
            found.append(violation(name, "data_type_check",
                                   f"{1 - numeric_share:.1%} of values are not numbers; the baseline is {expected['inferred_type']}"))
    if expected["inferred_type"] == "String" and len(present):
        domain = set(limit.get("string_constraints", {}).get("domains", []))
        values = present.astype(str)
        inside = values.isin(domain)
        if float(inside.mean()) < config.get("domain_content_threshold", 1.0):
            unseen = values[~inside].value_counts()
            listed = ", ".join(f"{v} ({n})" for v, n in unseen.head(5).items())
            found.append(violation(name, "categorical_values_check",
                                   f"{(~inside).mean():.1%} of values are not in the baseline: {listed}"))
    return found


def drift_test(name, column, expected, settings):
    chosen = settings.get("features", {}).get(name, {})
    present = column.dropna()
    if len(present) < settings.get("drift_min_rows", 1):
        return None
    large = len(present) > settings["large_sample_rows"]
    if expected["inferred_type"] == "String":
        method = chosen.get("method") or settings["categorical_method"]
        method = ("jensen_shannon" if large else "chisquare") if method == "auto" else method
        if method not in CATEGORICAL_METHODS:
            method = "jensen_shannon" if large else "chisquare"
        counts = data_profile.category_counts(expected)
        if not counts:  # the training table had no values here: nothing to compare with
            return None
        statistic, p_value = categorical_test(method, counts, present.astype(str))
    else:
        current = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
        if not len(current):
            return None
        method = chosen.get("method") or settings["numeric_method"]
        method = ("wasserstein" if large else "ks") if method == "auto" else method
        if method not in NUMERIC_METHODS:
            method = "wasserstein" if large else "ks"
        sample = data_profile.numeric_sample(expected)
        if not len(sample):  # the training table had no values here: nothing to compare with
            return None
        statistic, p_value = numeric_test(method, sample, current)
    threshold = float(chosen.get("threshold") or settings.get("thresholds", {}).get(method) or DEFAULT_THRESHOLDS[method])
    if method in P_VALUE_TESTS and not chosen.get("threshold"):
        threshold /= settings.get("tests", 1)  # Bonferroni over the features tested
    drifted = p_value < threshold if method in P_VALUE_TESTS else statistic >= threshold
    return {"feature": name, "method": method, "statistic": float(statistic),
            "p_value": None if p_value is None else float(p_value), "threshold": threshold, "drifted": bool(drifted),
            "rows": int(len(present))}


def numeric_test(method, baseline, current):
    if method == "ks":
        outcome = scipy_stats.ks_2samp(baseline, current)
        return outcome.statistic, outcome.pvalue
    if method == "wasserstein":
        spread = float(np.std(baseline)) or 1.0
        return scipy_stats.wasserstein_distance(baseline, current) / spread, None
    edges = np.unique(np.quantile(baseline, np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf
    expected = np.histogram(baseline, bins=edges)[0] / len(baseline)
    actual = np.histogram(current, bins=edges)[0] / len(current)
    return psi(expected, actual), None


def categorical_test(method, baseline_counts, current):
    categories = list(baseline_counts)
    total = sum(baseline_counts.values()) or 1
    expected = np.array([baseline_counts[c] / total for c in categories] + [0.0])
    counts = current.where(current.isin(categories), OTHER).value_counts()
    observed = np.array([counts.get(c, 0) for c in [*categories, OTHER]], dtype=float)
    if method == "chisquare":
        smoothed = (expected + EPSILON) / (expected + EPSILON).sum()
        outcome = scipy_stats.chisquare(observed, smoothed * observed.sum())
        return outcome.statistic, outcome.pvalue
    actual = observed / observed.sum()
    if method == "jensen_shannon":
        return jensenshannon(expected, actual, base=2), None
    return psi(expected, actual), None


def psi(expected, actual):
    expected, actual = np.clip(expected, EPSILON, None), np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift_description(result):
    if result["p_value"] is not None:
        return f"{result['method']} p-value {result['p_value']:.2g} < {result['threshold']:g} (statistic {result['statistic']:.3f})"
    return f"{result['method']} distance {result['statistic']:.3f} >= {result['threshold']:g}"


def violation(feature, check_type, description):
    return {"feature_name": feature, "constraint_check_type": check_type, "description": description}
