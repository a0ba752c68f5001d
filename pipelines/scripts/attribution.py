"""Global feature attributions (mean |SHAP| per feature) and the NDCG of one ranking against another.

The team's model can be any framework in any container, and a processing step
cannot load it; what every step has is the model's own predictions for the rows
it checks (batch transform output). So the attributions are those of a random
forest fitted to reproduce those predictions (a global surrogate), computed
exactly by shap's TreeExplainer; `fidelity` says how well the surrogate matches
the model (R² for regression, agreement for classification). The same recipe at
training and at inference makes the two rankings comparable.
"""

import importlib
import os

# pip, to add shap to a container that lacks it (bandit B404).
import subprocess  # nosec B404
import sys

import numpy as np
import pandas as pd

# SageMaker's scikit-learn container has no shap: the step installs it (processing jobs have network access by default).
SHAP_REQUIREMENT = "shap>=0.46,<0.52"
NDCG_TOP_K = 10
BACKGROUND_CLUSTERS = 10  # the K-means summary the local explanations are measured against
BACKGROUND_SAMPLE_ROWS = 10_000
MISSING_CODE = -1.0


def shap_module():
    os.environ.setdefault("TQDM_DISABLE", "1")  # shap's progress bars, which would fill the job's log
    try:
        return importlib.import_module("shap")
    except ImportError:
        # A fixed requirement, no user input (bandit B603).
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", SHAP_REQUIREMENT])  # nosec B603
        return importlib.import_module("shap")


def encode(frame, features, domains):
    """Numbers as they are (missing: -1), categories as their index in the baseline's domain (unseen: -1)."""
    encoded = {}
    for name in features:
        column = frame[name] if name in frame.columns else pd.Series([np.nan] * len(frame))
        if name in domains:
            codes = {value: float(i) for i, value in enumerate(domains[name])}
            encoded[name] = column.astype(str).map(codes).fillna(MISSING_CODE).to_numpy(dtype=float)
        else:
            encoded[name] = pd.to_numeric(column, errors="coerce").fillna(MISSING_CODE).to_numpy(dtype=float)
    return pd.DataFrame(encoded, columns=list(features))


def surrogate_of(frame, predictions, task, features, domains, sample_rows, seed=0):
    """(the surrogate fitted to the model's predictions on a sample of frame's rows, that sample encoded, its targets)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    rows = np.random.default_rng(seed).permutation(len(frame))[:sample_rows]
    if task != "regression":  # every predicted class in the sample, so that each has attributions of its own
        labels = np.asarray(predictions, dtype=object).astype(str)
        missing = sorted(set(labels) - set(labels[rows]))
        rows = np.concatenate([rows, [int(np.flatnonzero(labels == label)[0]) for label in missing]]).astype(int)
    x = encode(frame.iloc[rows].reset_index(drop=True), features, domains)
    target = np.asarray(predictions, dtype=object)[rows]
    if task == "regression":
        surrogate = RandomForestRegressor(n_estimators=30, max_depth=8, random_state=seed, n_jobs=1)
        target = target.astype(float)
    else:
        surrogate = RandomForestClassifier(n_estimators=30, max_depth=8, random_state=seed, n_jobs=1)
        target = target.astype(str)
    surrogate.fit(x, target)
    return surrogate, x, target


def global_importance(frame, predictions, task, features, domains, sample_rows, seed=0):
    """{"features": {name: mean |SHAP|}, "fidelity", "rows", "method"} for the model's predictions on frame's rows."""
    surrogate, x, target = surrogate_of(frame, predictions, task, features, domains, sample_rows, seed)
    values = shap_module().TreeExplainer(surrogate).shap_values(x, check_additivity=False)
    values = np.abs(np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values))
    per_feature = values.mean(axis=0)
    if per_feature.ndim > 1:  # one column per class: a feature's weight over all classes
        per_feature = per_feature.mean(axis=1)
    importance = {name: float(v) for name, v in zip(features, per_feature)}
    return {
        "method": "mean |SHAP| of a random-forest surrogate (shap TreeExplainer)",
        "features": dict(sorted(importance.items(), key=lambda item: -item[1])),
        "fidelity": float(surrogate.score(x, target)),
        "rows": int(len(x)),
    }


def background_summary(frame, features, domains, clusters=BACKGROUND_CLUSTERS, sample_rows=BACKGROUND_SAMPLE_ROWS, seed=0):
    """Clarify's SHAP baseline: a K-means summary of the training rows (shap.kmeans), encoded as `encode` does."""
    rows = np.random.default_rng(seed).permutation(len(frame))[:sample_rows]
    x = encode(frame.iloc[rows].reset_index(drop=True), features, domains)
    k = max(1, min(clusters, len(x)))
    summary = shap_module().kmeans(x.to_numpy(), k)
    return {"method": f"shap.kmeans: {k} cluster centres of {len(x)} training rows", "features": list(features),
            "rows": np.asarray(summary.data).tolist(), "weights": np.asarray(summary.weights).tolist()}


def local_explanations(frame, predictions, task, features, domains, background, top_k, max_items, sample_rows, seed=0):
    """Each explained item's top_k features by |SHAP| of the surrogate's output for its prediction (the predicted
    class), against the training background (interventional SHAP, as Clarify computes against its baseline).

    Returns (positions in frame of the items explained: all, or a random max_items of them, in order; a frame of
    position, rank, feature, attribution, and the surrogate's class whose attributions they are: empty for regression)."""
    surrogate, _, _ = surrogate_of(frame, predictions, task, features, domains, sample_rows, seed)
    positions = np.arange(len(frame))
    if len(frame) > max_items:
        positions = np.sort(np.random.default_rng(seed + 1).choice(len(frame), size=max_items, replace=False))
    x = encode(frame.iloc[positions].reset_index(drop=True), features, domains)
    centres = pd.DataFrame(background["rows"], columns=background["features"])[list(features)]
    explainer = shap_module().TreeExplainer(surrogate, data=centres, feature_perturbation="interventional")
    values = explainer.shap_values(x, check_additivity=False)
    values = np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values)
    explained = np.full(len(positions), "", dtype=object)
    if values.ndim == 3:  # one column per class: the predicted class's (the surrogate was fitted with every one)
        column = {str(name): i for i, name in enumerate(surrogate.classes_)}
        predicted = np.asarray(predictions, dtype=object)[positions].astype(str)
        index = np.array([column[p] for p in predicted])
        values = values[np.arange(len(values)), :, index]
        explained = np.asarray(surrogate.classes_, dtype=object)[index]
    k = min(top_k, len(features))
    top = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    names = np.asarray(features, dtype=object)
    ranked = pd.DataFrame({
        "position": np.repeat(positions, k),
        "rank": np.tile(np.arange(1, k + 1), len(positions)),
        "feature": names[top].ravel(),
        "attribution": np.take_along_axis(values, top, axis=1).ravel(),
        "explained": np.repeat(explained, k),
    })
    return positions, ranked


def ndcg(baseline, current, k=NDCG_TOP_K):
    """Clarify's attribution drift score: the current ranking's DCG of the baseline's attributions over the ideal DCG."""
    names = [n for n in baseline if n in current]
    k = min(k, len(names))
    if not k or not any(baseline[n] > 0 for n in names):
        return 1.0
    ideal = sorted(names, key=lambda n: -baseline[n])[:k]
    ranked = sorted(names, key=lambda n: -current[n])[:k]
    discount = 1 / np.log2(np.arange(2, k + 2))
    return float(np.dot([baseline[n] for n in ranked], discount) / np.dot([baseline[n] for n in ideal], discount))


def ranks(importance):
    return {name: position + 1 for position, name in enumerate(sorted(importance, key=lambda n: -importance[n]))}
