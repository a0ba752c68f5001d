"""Evaluate step (SageMaker Processing): metrics.json from the validation predictions.

The batch transform output has one JSON line per validation row, in order;
the labels come from the validation set, the label mix and size from the
training set (the promotion rules compare both with the approved model's).
"""

import argparse
import glob
import json
import os
import sys

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--validation", default="/opt/ml/processing/input/validation")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--train", default="/opt/ml/processing/input/train")
    parser.add_argument("--output", default="/opt/ml/processing/evaluation")
    args = parser.parse_args()

    truth = pd.read_csv(os.path.join(args.validation, "validation.csv"))[args.label_column].astype(str)
    predicted = [json.loads(line)["label"] for line in read_lines(args.predictions)]
    if len(predicted) != len(truth):
        sys.exit(f"{len(predicted)} predictions for {len(truth)} validation rows: the transform output is incomplete")
    train_labels = pd.read_csv(os.path.join(args.train, "train.csv"))[args.label_column].astype(str)
    classes = sorted(set(truth) | set(predicted))
    precision, recall, _, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    metrics = {
        "accuracy": round(float(accuracy_score(truth, predicted)), 6),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 6),
        "majority_class_rate": round(float(truth.value_counts(normalize=True).iloc[0]), 6),
        "per_class": {
            c: {"precision": round(float(p), 6), "recall": round(float(r), 6), "support": int(s)}
            for c, p, r, s in zip(classes, precision, recall, support)
        },
        "train_label_distribution": {k: round(float(v), 6) for k, v in train_labels.value_counts(normalize=True).sort_index().items()},
        "train_rows": int(len(train_labels)),
        "validation_rows": int(len(truth)),
    }
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    print(json.dumps({k: metrics[k] for k in ("accuracy", "macro_f1", "majority_class_rate")}))


def read_lines(directory: str) -> list[str]:
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.out"), recursive=True))
    if not paths:
        sys.exit(f"no batch transform output (*.out) under {directory}")
    return [line for path in paths for line in open(path) if line.strip()]


if __name__ == "__main__":
    main()
