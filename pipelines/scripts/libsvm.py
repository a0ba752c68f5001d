"""The libsvm layout (data.layout: libsvm): the label, then index:value for each feature that has a value.

Indices count from 1 in the config's feature order, as the LIBSVM data sets and
SageMaker's XGBoost examples number them; a missing value is left out, which
XGBoost reads as missing. A class is written as its index in schema.json's
classes; a line with no known label (a batch transform's input) carries 0.
"""

import math

import pandas as pd


def numeric_problem(frame, features):
    """The first feature holding text, named, or None: libsvm holds numbers only."""
    for column in features:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            return (f"data.layout libsvm holds numbers only; the feature {column} holds text "
                    f"(e.g. {frame[column].dropna().iloc[0]!r}): encode it as numbers, or use layout label_first")
    return None


def line(label, values):
    cells = [f"{index}:{value!r}" for index, value in enumerate(values, start=1) if not _missing(value)]
    return " ".join([str(label), *cells])


def write(frame, path, label, features, classes=None):
    """One line per row; `label` None writes 0 for every row (rows whose label is not known)."""
    index = {name: position for position, name in enumerate(classes or [])}
    labels = [0] * len(frame) if label is None else (
        [index[str(v)] for v in frame[label]] if classes else frame[label].tolist())
    with open(path, "w") as handle:
        for value, row in zip(labels, frame[features].to_numpy(dtype=float).tolist()):
            handle.write(line(value, row) + "\n")


def read(path, label, features, classes=None):
    """The rows of a libsvm file as a table of label and features (classes back to their names)."""
    rows = []
    with open(path) as handle:
        for text in handle:
            if not text.strip():
                continue
            head, *cells = text.split()
            row = dict.fromkeys(features, float("nan"))
            for cell in cells:
                position, value = cell.split(":", 1)
                row[features[int(position) - 1]] = float(value)
            row[label] = classes[int(float(head))] if classes else float(head)
            rows.append(row)
    return pd.DataFrame(rows, columns=[label, *features])


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))
