"""Prepare step (SageMaker Processing): the items to predict, in files of moderate size.

The run's spec says what to select: daily, items added in [since, until);
monthly and on_demand, the whole catalogue. Writes the features alone,
headerless and in the model's order (batch transform input), and the item ids
beside them in files of the same names and row order, so the Assemble step
can put each prediction back with its item.
"""

import argparse
import glob
import json
import os
import sys

import pandas as pd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="/opt/ml/processing/input/catalogue")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--items", default="/opt/ml/processing/items")
    parser.add_argument("--ids", default="/opt/ml/processing/ids")
    parser.add_argument("--selection", default="/opt/ml/processing/selection")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    import libsvm

    with open(os.path.join(args.spec, "spec.json")) as handle:
        spec = json.load(handle)
    id_column, added_at_column, features, mode = spec["id_column"], spec["added_at_column"], spec["feature_columns"], spec["mode"]
    paths = sorted(glob.glob(os.path.join(args.input, "**", "*.csv"), recursive=True))
    if not paths:
        sys.exit(f"no CSV files under {args.input}: check inference.catalogue_uri (or data.uri) in the config")
    table = pd.concat([pd.read_csv(p, dtype={id_column: str}) for p in paths], ignore_index=True)
    segment = spec.get("segment")
    if segment:  # one model of a family predicts its own segment's items
        if segment["column"] not in table.columns:
            sys.exit(f"the segment column {segment['column']} is not in the catalogue; it has: {', '.join(table.columns)}")
        table = table[table[segment["column"]].astype(str) == segment["value"]]
    missing = [c for c in [id_column, *features] if c not in table.columns]
    if mode == "daily" and added_at_column not in table.columns:
        missing.append(added_at_column)
    if missing:
        sys.exit(f"column(s) {', '.join(missing)} not in the catalogue; it has: {', '.join(table.columns)}")
    if mode == "daily":
        added = table[added_at_column].astype(str).str[:10]
        table = table[(added >= spec["since"]) & (added < spec["until"])]
    layout = spec.get("layout", "header")  # the rows the serving code reads, as its training channels held them
    if layout == "libsvm" and len(table) and libsvm.numeric_problem(table, features):
        sys.exit(libsvm.numeric_problem(table, features))
    for directory in (args.items, args.ids, args.selection):
        os.makedirs(directory, exist_ok=True)
    parts, rows_per_file = 0, int(spec["rows_per_file"])
    # An empty selection still writes one empty part, so the steps after it
    # run and load zero rows instead of failing on missing input.
    for start in range(0, max(len(table), 1), rows_per_file):
        chunk = table.iloc[start:start + rows_per_file]
        name = f"part-{parts:05d}.csv"
        if layout == "libsvm":  # the same name as its ids' part, which the assembly pairs it by
            libsvm.write(chunk, os.path.join(args.items, name), None, features)
        else:
            chunk[features].to_csv(os.path.join(args.items, name), index=False, header=False)
        chunk[[id_column]].to_csv(os.path.join(args.ids, name), index=False, header=False)
        parts += 1
    with open(os.path.join(args.selection, "selection.json"), "w") as handle:
        json.dump({"mode": mode, "since": spec["since"], "until": spec["until"], "items": int(len(table)), "files": parts,
                   "columns": [str(c) for c in table.columns]}, handle)
    print(f"selected {len(table)} items ({mode}) into {parts} files")


if __name__ == "__main__":
    main()
