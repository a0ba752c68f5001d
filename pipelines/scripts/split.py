"""Split step (SageMaker Processing): the training table into train and validation sets.

Reads every CSV under --input and the run's spec (label, features, task),
keeps the label and the features, and writes a split (stratified for
classification). The train and validation channels get a CSV in the config's
data.layout: header (a header row, and schema.json beside: label, features,
task, classes), label_first (no header, the label first, only the CSV) or
libsvm (libsvm.py); schema.json also goes to its own output, the Train step's
schema channel. The transform step gets the validation features alone, one row
per line, in the features' order: headerless CSV, or libsvm lines.
"""

import argparse
import glob
import json
import os
import sys

import pandas as pd
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="/opt/ml/processing/input/data")
    parser.add_argument("--spec", default="/opt/ml/processing/input/spec")
    parser.add_argument("--train", default="/opt/ml/processing/train")
    parser.add_argument("--validation", default="/opt/ml/processing/validation")
    # not validation_features: a channel's S3 prefix .../validation would take that folder's files too, on AWS as here
    parser.add_argument("--transform-input", default="/opt/ml/processing/transform_input")
    parser.add_argument("--schema", default="/opt/ml/processing/schema")
    parser.add_argument("--library", default="/opt/ml/processing/input/library", help="the shared step modules")
    args = parser.parse_args()
    sys.path.insert(0, args.library)
    import libsvm

    spec = read_spec(args.spec)
    label, features, task = spec["label_column"], spec["feature_columns"], spec["task"]
    table = read_table(args.input)
    segment = spec.get("segment")
    if segment:  # one model of a family: only its segment's rows
        if segment["column"] not in table.columns:
            sys.exit(f"the segment column {segment['column']} is not in the training table; it has: {', '.join(table.columns)}")
        table = table[table[segment["column"]].astype(str) == segment["value"]]
        if table.empty:
            sys.exit(f"no rows of the training table have {segment['column']} = {segment['value']}")
    missing = [c for c in [label, *features] if c not in table.columns]
    if missing:
        sys.exit(f"column(s) {', '.join(missing)} not in the training table; it has: {', '.join(table.columns)}")
    table_columns = [str(c) for c in table.columns]
    table = table[[label, *features]].dropna(subset=[label])
    if table.empty:
        sys.exit(f"the training table ({', '.join(TABLE_FILES)}) has no row with a value in {label}: check data.uri and "
                 "data.label_column")
    classes = []
    if task != "regression":
        table[label] = table[label].astype(str)
        classes = sorted(table[label].unique())
        counts = table[label].value_counts()
        listed = ", ".join(f"{name!r} {count}" for name, count in counts.items())
        if task == "binary_classification" and len(classes) != 2:
            sys.exit(f"task binary_classification needs exactly 2 label values; {label} has {len(classes)}: {listed}")
        if len(classes) < 2:
            sys.exit(f"task {task} needs at least 2 label values; {label} has {len(classes)}: {listed}. A model of one "
                     "class would score perfectly and predict nothing: check the table and data.label_column")
        rare = counts[counts < 2]
        if not rare.empty:
            named = ", ".join(f"{name!r} {count}" for name, count in rare.items())
            sys.exit(f"label value(s) with fewer than 2 rows, which the split cannot put in both train and validation: "
                     f"{named} (all: {listed}); drop those rows or add examples")
    elif not pd.api.types.is_numeric_dtype(table[label]):
        sys.exit(f"task regression needs a numeric label; {label} holds text (e.g. {table[label].iloc[0]!r})")
    counts = table[label].value_counts()
    stratify = table[label] if task != "regression" and counts.min() >= 2 else None
    train, validation = train_test_split(table, test_size=spec["validation_split"], random_state=spec.get("seed", 0), stratify=stratify)
    layout = spec.get("layout", "header")
    if layout == "libsvm" and libsvm.numeric_problem(table, features):
        sys.exit(libsvm.numeric_problem(table, features))
    schema = {"label": label, "features": features, "task": task, "classes": classes, "table_columns": table_columns,
              "layout": layout, "rows": {"train": int(len(train)), "validation": int(len(validation))}}  # the version's lineage
    for directory, part in ((args.train, train), (args.validation, validation)):
        os.makedirs(directory, exist_ok=True)
        name = os.path.join(directory, os.path.basename(directory))
        if layout == "libsvm":
            libsvm.write(part, name + ".libsvm", label, features, classes)
        else:  # label_first: the label, then the features, no header, and nothing but data in the channel
            part.to_csv(name + ".csv", index=False, header=layout == "header")
        if layout == "header":
            write_schema(directory, schema)
    write_schema(args.schema, schema)
    os.makedirs(args.transform_input, exist_ok=True)
    if layout == "libsvm":
        libsvm.write(validation, os.path.join(args.transform_input, "features.libsvm"), None, features)
    else:
        validation[features].to_csv(os.path.join(args.transform_input, "features.csv"), index=False, header=False)
    print(f"split {len(table)} rows: {len(train)} train, {len(validation)} validation ({task})")


def write_schema(directory, schema):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "schema.json"), "w") as handle:
        json.dump(schema, handle)


def read_spec(directory):
    with open(os.path.join(directory, "spec.json")) as handle:
        return json.load(handle)


TABLE_FILES = []  # the files read, named by a failure about the table


def read_table(directory):
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    if not paths:
        sys.exit(f"no CSV files under {directory}: check data.uri in the config")
    TABLE_FILES.extend(os.path.relpath(p, directory) for p in paths)
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


if __name__ == "__main__":
    main()
