"""Batch transform output: one JSON line per input row (an object, a one-item list, or a bare label or number)."""

import glob
import json
import os
import sys


def read_prediction(line, task):
    """One output line as {"value"} (regression) or {"label", "probabilities"}."""
    value = json.loads(line)
    if isinstance(value, dict):
        if task == "regression":
            return {"value": float(value.get("value", value.get("prediction", value.get("score"))))}
        return {"label": str(value.get("label", value.get("predicted_label"))), "probabilities": value.get("probabilities") or {}}
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return {"value": float(value)} if task == "regression" else {"label": str(value), "probabilities": {}}


def read_lines(directory, required=True):
    """Every non-empty line of every *.out file under directory, in file-name order (none: an error if required)."""
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.out"), recursive=True))
    if required and not paths:
        sys.exit(f"no batch transform output (*.out) under {directory}")
    return [line for path in paths for line in open(path) if line.strip()]


def predicted(prediction, task):
    """The prediction as one value: the number (regression) or the label."""
    return prediction["value"] if task == "regression" else prediction["label"]
