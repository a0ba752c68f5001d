"""EvaluateQuality step (SageMaker Processing): labels that arrived later, judged against the predictions made.

Reads the labels file (the id column and the label column the model was
trained on) and the prediction files of the approved version's loaded runs
(staged from a manifest the workflow wrote). Each labelled item is matched to
its newest prediction, by item id; the matched pairs get the same metrics
document as the Evaluate step writes at training (evaluate.py), with a data
section saying how many labels matched. Writes metrics.json and summary.json.
"""

import argparse
import csv
import glob
import json
import os
import sys

import pandas as pd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", default="/opt/ml/processing/input/labels")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    parser.add_argument("--output", default="/opt/ml/processing/quality")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    from data_profile import finite

    with open(os.path.join(args.spec, "spec.json")) as handle:
        spec = json.load(handle)
    labels = read_labels(args.labels, spec["id_column"], spec["label_column"])
    predictions = newest_predictions(args.predictions, spec["prediction_runs"])
    matched = labels.join(predictions, how="inner")
    if matched.empty:
        sys.exit(
            f"none of the {len(labels):,} labelled items has a prediction by version {spec['model_version']} "
            f"(searched {len(spec['prediction_runs'])} loaded run(s)): check the labels' {spec['id_column']} values"
        )
    document = quality_document(spec["task"], matched, spec["label_column"])
    document["data"] = {
        "labelled_rows": int(len(labels)), "matched_rows": int(len(matched)), "unmatched_rows": int(len(labels) - len(matched)),
        "runs_matched": sorted(set(matched["run_id"])),
    }
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "metrics.json"), "w") as handle:
        json.dump(finite(document), handle, indent=2)
    print(f"{len(matched):,} of {len(labels):,} labelled items matched a prediction of version {spec['model_version']}")


def read_labels(directory, id_column, label_column):
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if not paths:
        sys.exit(f"no labels file (*.csv) under {directory}")
    table = pd.concat([pd.read_csv(path, dtype={id_column: str}) for path in paths], ignore_index=True)
    missing = [c for c in (id_column, label_column) if c not in table.columns]
    if missing:
        sys.exit(f"the labels file has no {' or '.join(missing)} column (it has: {', '.join(map(str, table.columns))})")
    table = table.dropna(subset=[label_column]).drop_duplicates(subset=[id_column], keep="last")
    return table.set_index(id_column)[[label_column]]


def newest_predictions(directory, runs):
    """item id -> the prediction of the newest run that predicted it (runs: newest first; files under <run>/predictions/)."""
    rank = {run: position for position, run in enumerate(runs)}
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True)):
        run = os.path.relpath(path, directory).split(os.sep)[0]
        if run not in rank:
            continue
        with open(path, newline="") as handle:
            for item_id, label, value, probabilities in csv.reader(handle):
                rows.append((item_id, run, rank[run], label, value, probabilities))
    table = pd.DataFrame(rows, columns=["item_id", "run_id", "rank", "predicted_label", "predicted_value", "probabilities"])
    return table.sort_values("rank").drop_duplicates("item_id").set_index("item_id").drop(columns="rank")


def quality_document(task, matched, label_column):
    from evaluate import classification_document, regression_document

    if task == "regression":
        truth = matched[label_column].astype(float).to_numpy()
        document = regression_document(truth, matched["predicted_value"].astype(float).to_numpy(), pd.Series(truth))
    else:
        truth = matched[label_column].astype(str).to_numpy()
        predictions = [
            {"label": label, "probabilities": json.loads(scores) if scores else {}}
            for label, scores in zip(matched["predicted_label"], matched["probabilities"])
        ]
        document = classification_document(task, truth, predictions, pd.Series(truth), [])
    document["task"] = task
    document["custom_metrics"] = {}
    return document


if __name__ == "__main__":
    main()
