"""Assemble step (SageMaker Processing): predictions joined to their items, ready for COPY.

Batch transform wrote one JSON line per input row, in order, to
<part>.csv.out; the ids of the same part are in <part>.csv. Writes CSV parts
(item_id, predicted_label, predicted_value, probabilities as JSON; the
columns a task does not use are empty, which COPY ... EMPTYASNULL loads as
NULL), a Redshift COPY manifest naming exactly those parts with their sizes,
and summary.json (row count, count per class or the predicted values' range,
which the load step verifies against the table and the notice reports).
"""

import argparse
import csv
import glob
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", default="/opt/ml/processing/input/ids")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    parser.add_argument("--output-uri", required=True, help="where --output is uploaded (for the manifest's URLs)")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    parser.add_argument("--baseline", default="/opt/ml/processing/input/baseline", help="the training run's Evaluate output")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    from prediction_lines import ClassNumbers, read_prediction, schema_in

    classes = ClassNumbers(schema_in(args.baseline))

    with open(os.path.join(args.spec, "spec.json")) as handle:
        task = json.load(handle)["task"]
    os.makedirs(args.output, exist_ok=True)
    entries, per_class, values, rows = [], {}, [], 0
    for ids_path in sorted(glob.glob(os.path.join(args.ids, "*.csv"))):
        name = os.path.basename(ids_path)
        predictions_path = os.path.join(args.predictions, f"{name}.out")
        if not os.path.exists(predictions_path):
            sys.exit(f"batch transform wrote no output for {name}")
        with open(ids_path) as ids_file, open(predictions_path) as predictions_file:
            ids = [row[0] for row in csv.reader(ids_file) if row]  # the Prepare step wrote them as CSV
            predictions = [read_prediction(line, task, classes) for line in predictions_file if line.strip()]
        if len(ids) != len(predictions):
            sys.exit(f"{name}: {len(ids)} items but {len(predictions)} predictions")
        target = os.path.join(args.output, name)
        with open(target, "w", newline="") as out:
            writer = csv.writer(out)
            for item_id, prediction in zip(ids, predictions):
                if task == "regression":
                    writer.writerow([item_id, "", repr(prediction["value"]), ""])
                    values.append(prediction["value"])
                else:
                    label = prediction["label"]
                    scores = json.dumps(prediction["probabilities"], sort_keys=True) if prediction["probabilities"] else ""
                    writer.writerow([item_id, label, "", scores])
                    per_class[label] = per_class.get(label, 0) + 1
        rows += len(ids)
        url = f"{args.output_uri.rstrip('/')}/{name}"
        entries.append({"url": url, "mandatory": True, "meta": {"content_length": os.path.getsize(target)}})
    with open(os.path.join(args.output, "manifest.json"), "w") as handle:
        json.dump({"entries": entries}, handle, indent=1)
    summary = {"rows": rows, "files": len(entries), "task": task, "per_class": dict(sorted(per_class.items()))}
    if values:
        summary["values"] = {"min": min(values), "max": max(values), "mean": sum(values) / len(values)}
    with open(os.path.join(args.output, "summary.json"), "w") as handle:
        json.dump(summary, handle)
    print(f"assembled {rows} predictions in {len(entries)} files")


if __name__ == "__main__":
    main()
