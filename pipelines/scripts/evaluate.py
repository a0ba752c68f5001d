"""Evaluate step (SageMaker Processing): the metrics document of a trained model.

Its shape follows SageMaker Model Monitor's model-quality statistics: the task's
section (binary_classification_metrics, multiclass_classification_metrics or
regression_metrics) holds each metric as {"value", "standard_deviation"}, the
deviation from a bootstrap of the validation set. custom_metrics holds what the
training script wrote to metrics.json in its model directory. data holds what
the promotion rules compare besides the metric: row counts, and the training
label mix (classification) or target percentiles (regression), and what a
person reading a version wants to know of its data: each feature's share of
missing values (blank cells) in the training and validation rows.
"""

import argparse
import glob
import json
import math
import os
import sys
import tarfile

import numpy as np
import pandas as pd
from sklearn import metrics as sk

BOOTSTRAP_SAMPLES = 20
SECTION = {
    "binary_classification": "binary_classification_metrics",
    "multiclass_classification": "multiclass_classification_metrics",
    "regression": "regression_metrics",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--validation", default="/opt/ml/processing/input/validation")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--train", default="/opt/ml/processing/input/train")
    parser.add_argument("--model", default="/opt/ml/processing/input/model")
    parser.add_argument("--output", default="/opt/ml/processing/evaluation")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--schema", default="/opt/ml/processing/input/schema")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    from data_profile import finite
    from prediction_lines import ClassNumbers, read_lines, read_prediction

    with open(os.path.join(args.schema, "schema.json")) as handle:
        schema = json.load(handle)
    task, label = schema["task"], schema["label"]
    validation = read_part(os.path.join(args.validation, "validation"), schema)
    train = read_part(os.path.join(args.train, "train"), schema)
    predictions = [read_prediction(line, task, ClassNumbers(schema)) for line in read_lines(args.predictions)]
    if len(predictions) != len(validation):
        sys.exit(f"{len(predictions)} predictions for {len(validation)} validation rows: the transform output is incomplete")
    if task == "regression":
        truth = validation[label].astype(float).to_numpy()
        document = regression_document(truth, np.array([p["value"] for p in predictions]), train[label].astype(float))
    else:
        truth = validation[label].astype(str).to_numpy()
        document = classification_document(task, truth, predictions, train[label].astype(str), schema.get("classes") or [])
    document["task"] = task
    document["data"]["missing_share"] = missing_shares([train, validation], schema["features"])
    document["custom_metrics"] = custom_metrics(args.model)
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "metrics.json"), "w") as handle:
        json.dump(finite(document), handle, indent=2)
    print(json.dumps({name: m["value"] for name, m in finite(document)[SECTION[task]].items() if isinstance(m, dict)}))
    with open(os.path.join(args.spec, "spec.json")) as handle:
        monitoring = json.load(handle)["monitoring"]
    write_baseline(train, validation, predictions, schema, monitoring, args.output)


def read_part(path, schema):
    """A split's rows (`path` without its extension) as the Split step wrote them in the config's data.layout."""
    layout = schema.get("layout", "header")
    if layout == "libsvm":
        import libsvm

        return libsvm.read(path + ".libsvm", schema["label"], schema["features"], schema.get("classes") or None)
    if layout == "label_first":
        return pd.read_csv(path + ".csv", header=None, names=[schema["label"], *schema["features"]])
    return pd.read_csv(path + ".csv")


def write_baseline(train, validation, predictions, schema, monitoring, output):
    """statistics.json and constraints.json of the training table, attributions.json of the model, shap_background.json."""
    import attribution
    import data_profile
    from data_profile import finite
    from prediction_lines import predicted

    features, task = schema["features"], schema["task"]
    statistics = data_profile.statistics(train, features)
    statistics["dataset"]["columns"] = schema.get("table_columns", features)
    constraints = data_profile.constraints(statistics, data_profile.monitoring_config(monitoring))
    importance = attribution.global_importance(
        validation, [predicted(p, task) for p in predictions], task, features, data_profile.domains(constraints),
        monitoring["attribution_sample_rows"],
    )
    # the SHAP baseline each prediction is explained against (Clarify's: a K-means summary of the training rows)
    background = attribution.background_summary(train, features, data_profile.domains(constraints))
    # schema.json too: an inference run's steps read the classes and layout beside the baseline
    for name, document in (("statistics", statistics), ("constraints", constraints), ("attributions", importance),
                           ("schema", schema), ("shap_background", background)):
        with open(os.path.join(output, f"{name}.json"), "w") as handle:
            json.dump(finite(document), handle)
    top = ", ".join(list(importance["features"])[:3])
    print(f"baseline: {len(statistics['features'])} features of {len(train)} rows; top attributions {top}")


def missing_shares(tables, features):
    """Each feature's share of blank cells over the rows of `tables`."""
    rows = pd.concat([table[features] for table in tables])
    return {feature: float(rows[feature].isna().mean()) if len(rows) else 0.0 for feature in features}


def regression_document(truth, predicted, train_target):
    def compute(t, p):
        mse = sk.mean_squared_error(t, p)
        return {"mae": sk.mean_absolute_error(t, p), "mse": mse, "rmse": math.sqrt(mse), "r2": sk.r2_score(t, p)}

    return {
        SECTION["regression"]: with_deviation(compute, truth, predicted),
        "data": {
            "train_rows": int(len(train_target)), "validation_rows": int(len(truth)),
            "target_percentiles": [float(v) for v in np.percentile(train_target, np.arange(101))],
        },
    }


def classification_document(task, truth, predictions, train_labels, classes):
    predicted = np.array([p["label"] for p in predictions])
    classes = sorted(set(classes) | set(truth) | set(predicted))
    if task == "binary_classification":
        positive = classes[-1]  # the label that sorts last: 1 of 0/1, True of False, yes of no
        scores = np.array([float(p["probabilities"].get(positive, 1.0 if p["label"] == positive else 0.0)) for p in predictions])

        def compute(t, p, s=None):
            return binary_metrics(t, p, s, positive)

        section = with_deviation(compute, truth, predicted, scores)
    else:
        section = with_deviation(multiclass_metrics, truth, predicted)
    precision, recall, _, support = sk.precision_recall_fscore_support(truth, predicted, labels=classes, zero_division=0)
    return {
        SECTION[task]: section,
        "per_class": {
            c: {"precision": float(p), "recall": float(r), "support": int(n)} for c, p, r, n in zip(classes, precision, recall, support)
        },
        "data": {
            "train_rows": int(len(train_labels)), "validation_rows": int(len(truth)),
            "label_distribution": {k: float(v) for k, v in train_labels.value_counts(normalize=True).sort_index().items()},
            "majority_class_rate": float(pd.Series(truth).value_counts(normalize=True).iloc[0]),
        },
    }


def binary_metrics(truth, predicted, scores, positive):
    t, p = truth == positive, predicted == positive
    tp, tn = float(np.sum(t & p)), float(np.sum(~t & ~p))
    fp, fn = float(np.sum(~t & p)), float(np.sum(t & ~p))
    both = len(set(t)) == 2
    return {
        "accuracy": sk.accuracy_score(t, p),
        "precision": sk.precision_score(t, p, zero_division=0),
        "recall": sk.recall_score(t, p, zero_division=0),
        "f1": sk.f1_score(t, p, zero_division=0),
        "f0_5": sk.fbeta_score(t, p, beta=0.5, zero_division=0),
        "f2": sk.fbeta_score(t, p, beta=2, zero_division=0),
        "auc": sk.roc_auc_score(t, scores) if both else None,
        "au_prc": sk.average_precision_score(t, scores) if both else None,
        "true_positive_rate": tp / (tp + fn) if tp + fn else None,
        "true_negative_rate": tn / (tn + fp) if tn + fp else None,
        "false_positive_rate": fp / (fp + tn) if fp + tn else None,
        "false_negative_rate": fn / (fn + tp) if fn + tp else None,
    }


def multiclass_metrics(truth, predicted):
    def averaged(kind, **extra):
        return sk.fbeta_score(truth, predicted, average=kind, zero_division=0, **extra)

    return {
        "accuracy": sk.accuracy_score(truth, predicted),
        "macro_f1": sk.f1_score(truth, predicted, average="macro", zero_division=0),
        "macro_precision": sk.precision_score(truth, predicted, average="macro", zero_division=0),
        "macro_recall": sk.recall_score(truth, predicted, average="macro", zero_division=0),
        "weighted_f1": sk.f1_score(truth, predicted, average="weighted", zero_division=0),
        "weighted_precision": sk.precision_score(truth, predicted, average="weighted", zero_division=0),
        "weighted_recall": sk.recall_score(truth, predicted, average="weighted", zero_division=0),
        "weighted_f0_5": averaged("weighted", beta=0.5),
        "weighted_f2": averaged("weighted", beta=2),
    }


def with_deviation(compute, *columns):
    """Each metric with its standard deviation over bootstrap resamples of the validation set, as Model Monitor reports it."""
    values = compute(*columns)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = rng.integers(0, len(columns[0]), len(columns[0]))
        try:
            samples.append(compute(*(c[pick] for c in columns)))
        except ValueError:  # a resample with one class left: skip it
            continue
    result = {}
    for name, value in values.items():
        spread = [s[name] for s in samples if s.get(name) is not None]
        result[name] = {"value": value, "standard_deviation": float(np.std(spread)) if value is not None and spread else None}
    return result


def custom_metrics(model_dir):
    """metrics.json the training script may write into its model directory: {name: number}."""
    for archive in glob.glob(os.path.join(model_dir, "**", "model.tar.gz"), recursive=True):
        with tarfile.open(archive) as packed:
            member = next((m for m in packed.getmembers() if m.name.lstrip("./") == "metrics.json"), None)
            if member is None:
                return {}
            written = json.load(packed.extractfile(member))
        if not isinstance(written, dict):
            sys.exit("metrics.json in the model directory must be an object of metric names to numbers")
        bad = [k for k, v in written.items() if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            sys.exit(f"metrics.json in the model directory: {', '.join(bad)} must be numbers")
        return {name: {"value": float(value)} for name, value in written.items()}
    return {}


if __name__ == "__main__":
    main()
