"""Batch transform output: one line per input row: JSON (an object, a one-item list, or a bare label or number), or, from
the containers' default output_fn with text/csv, a CSV row (a label, a number, or one probability per class).

A classifier's row of one number per class is the probability of each class, in the training schema's order
(`ClassNumbers`). On the libsvm layout, whose labels are class indices, a single number is read with the classes
too: an integer is a class's index, a fraction the probability of the second of two classes.
"""

import glob
import json
import os
import sys


class ClassNumbers:
    """The classes a classifier's numbers stand for, and whether a single number is a class's index (libsvm)."""

    def __init__(self, schema):
        schema = schema or {}
        self.classes = schema.get("classes") or []
        self.indexed = schema.get("layout") == "libsvm"


def read_prediction(line, task, numbers=None):
    """One output line as {"value"} (regression) or {"label", "probabilities"}; `numbers`: what a classifier's
    numbers stand for (ClassNumbers)."""
    try:
        value = json.loads(line)
    except ValueError:  # a CSV row
        cells = line.strip().split(",")
        value = [_number(c) for c in cells] if len(cells) > 1 else _number(cells[0])
    if task != "regression" and numbers and numbers.classes:
        known = _by_classes(value, numbers.classes, numbers.indexed)
        if known:
            return known
    if isinstance(value, dict):
        if task == "regression":
            return {"value": float(value.get("value", value.get("prediction", value.get("score"))))}
        return {"label": str(value.get("label", value.get("predicted_label"))), "probabilities": value.get("probabilities") or {}}
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return {"value": float(value)} if task == "regression" else {"label": str(value), "probabilities": {}}


def _number(cell):
    try:
        return float(cell)
    except ValueError:
        return cell


def _by_classes(value, classes, indexed):
    """A classifier's numbers as a class and probabilities; None when they are not numbers of these classes."""
    if isinstance(value, list) and len(value) == len(classes) > 1 and all(isinstance(v, (int, float)) for v in value):
        probabilities = {c: float(p) for c, p in zip(classes, value)}
        return {"label": max(probabilities, key=probabilities.get), "probabilities": probabilities}
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not indexed or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if float(value).is_integer() and 0 <= value < len(classes):
        return {"label": classes[int(value)], "probabilities": {}}
    if len(classes) == 2 and 0 <= value <= 1:
        return {"label": classes[1] if value >= 0.5 else classes[0], "probabilities": {classes[0]: 1 - value, classes[1]: value}}
    return None


def schema_in(directory):
    """The schema.json the training run's Evaluate step kept beside its baseline (None for a run before it did)."""
    path = os.path.join(directory, "schema.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def read_lines(directory, required=True):
    """Every non-empty line of every *.out file under directory, in file-name order (none: an error if required)."""
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.out"), recursive=True))
    if required and not paths:
        sys.exit(f"no batch transform output (*.out) under {directory}")
    return [line for path in paths for line in open(path) if line.strip()]


def predicted(prediction, task):
    """The prediction as one value: the number (regression) or the label."""
    return prediction["value"] if task == "regression" else prediction["label"]
