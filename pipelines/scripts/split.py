"""Split step (SageMaker Processing): the training table into train and validation sets.

Reads every CSV under --input, keeps the label and the configured features,
and writes a stratified split. The transform step gets the validation
features alone, headerless, one row per line, as batch transform expects.
"""

import argparse
import glob
import os
import sys

import pandas as pd
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="/opt/ml/processing/input/data")
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--feature-columns", required=True, help="comma-separated")
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", default="/opt/ml/processing/train")
    parser.add_argument("--validation", default="/opt/ml/processing/validation")
    parser.add_argument("--validation-features", default="/opt/ml/processing/validation_features")
    args = parser.parse_args()

    table = read_table(args.input)
    features = [c for c in args.feature_columns.split(",") if c]
    missing = [c for c in [args.label_column, *features] if c not in table.columns]
    if missing:
        sys.exit(f"column(s) {', '.join(missing)} not in the training table; it has: {', '.join(table.columns)}")
    table = table[[args.label_column, *features]].dropna(subset=[args.label_column])
    counts = table[args.label_column].value_counts()
    stratify = table[args.label_column] if counts.min() >= 2 else None
    train, validation = train_test_split(
        table, test_size=args.validation_split, random_state=args.seed, stratify=stratify
    )
    for directory in (args.train, args.validation, args.validation_features):
        os.makedirs(directory, exist_ok=True)
    train.to_csv(os.path.join(args.train, "train.csv"), index=False)
    validation.to_csv(os.path.join(args.validation, "validation.csv"), index=False)
    validation[features].to_csv(os.path.join(args.validation_features, "features.csv"), index=False, header=False)
    print(f"split {len(table)} rows: {len(train)} train, {len(validation)} validation")


def read_table(directory: str) -> pd.DataFrame:
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if not paths:
        sys.exit(f"no CSV files under {directory}: check data.uri in the config")
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


if __name__ == "__main__":
    main()
