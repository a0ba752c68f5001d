"""Prepare step (SageMaker Processing): the items to predict, in files of moderate size.

daily: items added in [since, until); monthly and on_demand: the whole
catalogue. Writes the features alone, headerless (batch transform input), and
the item ids beside them in files of the same names and row order, so the
Assemble step can put each prediction back with its item.
"""

import argparse
import glob
import json
import os
import sys

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="/opt/ml/processing/input/catalogue")
    parser.add_argument("--id-column", required=True)
    parser.add_argument("--added-at-column", required=True)
    parser.add_argument("--feature-columns", required=True, help="comma-separated, in the model's order")
    parser.add_argument("--mode", choices=["daily", "monthly", "on_demand"], required=True)
    parser.add_argument("--since", default="", help="daily: first added_at included (ISO date)")
    parser.add_argument("--until", default="", help="daily: first added_at excluded (ISO date)")
    parser.add_argument("--rows-per-file", type=int, default=50_000)
    parser.add_argument("--items", default="/opt/ml/processing/items")
    parser.add_argument("--ids", default="/opt/ml/processing/ids")
    parser.add_argument("--selection", default="/opt/ml/processing/selection")
    args = parser.parse_args()

    paths = sorted(glob.glob(os.path.join(args.input, "**", "*.csv"), recursive=True))
    if not paths:
        sys.exit(f"no CSV files under {args.input}: check inference.catalogue_uri (or data.uri) in the config")
    table = pd.concat([pd.read_csv(p, dtype={args.id_column: str}) for p in paths], ignore_index=True)
    features = [c for c in args.feature_columns.split(",") if c]
    missing = [c for c in [args.id_column, *features] if c not in table.columns]
    if args.mode == "daily" and args.added_at_column not in table.columns:
        missing.append(args.added_at_column)
    if missing:
        sys.exit(f"column(s) {', '.join(missing)} not in the catalogue; it has: {', '.join(table.columns)}")
    if args.mode == "daily":
        added = table[args.added_at_column].astype(str).str[:10]
        table = table[(added >= args.since) & (added < args.until)]
    for directory in (args.items, args.ids, args.selection):
        os.makedirs(directory, exist_ok=True)
    parts = 0
    # An empty selection still writes one empty part, so the steps after it
    # run and load zero rows instead of failing on missing input.
    for start in range(0, max(len(table), 1), args.rows_per_file):
        chunk = table.iloc[start:start + args.rows_per_file]
        name = f"part-{parts:05d}.csv"
        chunk[features].to_csv(os.path.join(args.items, name), index=False, header=False)
        chunk[[args.id_column]].to_csv(os.path.join(args.ids, name), index=False, header=False)
        parts += 1
    with open(os.path.join(args.selection, "selection.json"), "w") as handle:
        json.dump({"mode": args.mode, "since": args.since, "until": args.until, "items": int(len(table)), "files": parts}, handle)
    print(f"selected {len(table)} items ({args.mode}) into {parts} files")


if __name__ == "__main__":
    main()
