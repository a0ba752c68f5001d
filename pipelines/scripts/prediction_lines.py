"""Batch transform output: one line per input row: JSON (an object, a one-item list, or a bare label or number), or, from
the containers' default output_fn with text/csv, a CSV row (a label, a number, or one probability per class).

A classifier's output is read against the training schema's classes (`ClassNumbers`) where they are known: a label
that is one of them; a row of one number per class, the probability of each in order; one fraction with two classes,
the probability of the second (XGBoost's binary:logistic); on the libsvm layout, whose labels are class indices, a
whole number is a class's index. Anything else fails the step, naming the line, rather than load a wrong label.
"""

import glob
import json
import os
import sys


class ClassNumbers:
    """The classes a classifier's output stands for, and whether a whole number is a class's index (libsvm)."""

    def __init__(self, schema):
        schema = schema or {}
        self.classes = [str(c) for c in schema.get("classes") or []]
        self.indexed = schema.get("layout") == "libsvm"


def read_prediction(line, task, numbers=None):
    """One output line as {"value"} (regression) or {"label", "probabilities"}; `numbers`: what a classifier's
    output stands for (ClassNumbers)."""
    try:
        value = json.loads(line)
    except ValueError:  # a CSV row
        cells = line.strip().split(",")
        value = [_number(c) for c in cells] if len(cells) > 1 else _number(cells[0])
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if task == "regression":
        if isinstance(value, dict):
            value = value.get("value", value.get("prediction", value.get("score")))
        return {"value": float(value)}
    if isinstance(value, dict):
        prediction = {"label": str(value.get("label", value.get("predicted_label"))),
                      "probabilities": value.get("probabilities") or {}}
    elif numbers and numbers.classes:
        prediction = _by_classes(value, numbers.classes, numbers.indexed)
    else:
        prediction = {"label": str(value), "probabilities": {}}
    if numbers and numbers.classes and prediction is not None and prediction["label"] in numbers.classes:
        return prediction
    if numbers and numbers.classes:
        raise ValueError(f"the prediction {line.strip()[:100]!r} names none of the classes {', '.join(numbers.classes)}: "
                         "write the label, or one probability per class in that order (output_fn)")
    return prediction


def _number(cell):
    try:
        return float(cell)
    except ValueError:
        return cell


def _by_classes(value, classes, indexed):
    """A classifier's label, numbers or row of numbers as a class and probabilities; None when they are none of these."""
    if isinstance(value, list):
        if len(value) == len(classes) > 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            probabilities = {c: float(p) for c, p in zip(classes, value)}
            return {"label": max(probabilities, key=probabilities.get), "probabilities": probabilities}
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"label": str(value), "probabilities": {}}
    whole = float(value).is_integer()
    if indexed and whole and 0 <= value < len(classes):
        return {"label": classes[int(value)], "probabilities": {}}
    if not indexed:
        for label in (str(int(value)) if whole else None, str(value)):
            if label in classes:
                return {"label": label, "probabilities": {}}
    if len(classes) == 2 and 0 <= value <= 1 and not whole:
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
