"""Assemble step (SageMaker Processing): predictions joined to their items, ready for COPY.

Batch transform wrote one JSON line per input row, in order, to
<part>.csv.out; the ids of the same part are in <part>.csv. Writes CSV parts
(item_id, predicted_label, probabilities as JSON), a Redshift COPY manifest
naming exactly those parts with their sizes, and summary.json (row count
and count per class, which the load step verifies against the table).
"""

import argparse
import csv
import glob
import json
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", default="/opt/ml/processing/input/ids")
    parser.add_argument("--predictions", default="/opt/ml/processing/input/predictions")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    parser.add_argument("--output-uri", required=True, help="where --output is uploaded (for the manifest's URLs)")
    args = parser.parse_args()

    os.makedirs(args.output, exist_ok=True)
    entries, per_class, rows = [], {}, 0
    for ids_path in sorted(glob.glob(os.path.join(args.ids, "*.csv"))):
        name = os.path.basename(ids_path)
        predictions_path = os.path.join(args.predictions, f"{name}.out")
        if not os.path.exists(predictions_path):
            sys.exit(f"batch transform wrote no output for {name}")
        with open(ids_path) as ids_file, open(predictions_path) as predictions_file:
            ids = [row[0] for row in csv.reader(ids_file) if row]  # the Prepare step wrote them as CSV
            predictions = [json.loads(line) for line in predictions_file if line.strip()]
        if len(ids) != len(predictions):
            sys.exit(f"{name}: {len(ids)} items but {len(predictions)} predictions")
        target = os.path.join(args.output, name)
        with open(target, "w", newline="") as out:
            writer = csv.writer(out)
            for item_id, prediction in zip(ids, predictions):
                writer.writerow([item_id, prediction["label"], json.dumps(prediction["probabilities"], sort_keys=True)])
                per_class[prediction["label"]] = per_class.get(prediction["label"], 0) + 1
        rows += len(ids)
        url = f"{args.output_uri.rstrip('/')}/{name}"
        entries.append({"url": url, "mandatory": True, "meta": {"content_length": os.path.getsize(target)}})
    with open(os.path.join(args.output, "manifest.json"), "w") as handle:
        json.dump({"entries": entries}, handle, indent=1)
    with open(os.path.join(args.output, "summary.json"), "w") as handle:
        json.dump({"rows": rows, "files": len(entries), "per_class": dict(sorted(per_class.items()))}, handle)
    print(f"assembled {rows} predictions in {len(entries)} files")


if __name__ == "__main__":
    main()
