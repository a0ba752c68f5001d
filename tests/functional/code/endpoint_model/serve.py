"""A scikit-learn classifier behind a real-time endpoint: CSV rows in, each row's class probabilities out as CSV."""

import io
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if content_type != "text/csv":
        raise ValueError(f"this model reads text/csv, not {content_type}")
    return np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)


def predict_fn(rows, model):
    if rows.shape[1] != model.n_features_in_:
        raise ValueError(f"expected {model.n_features_in_} features per row, got {rows.shape[1]}")
    return model.predict_proba(rows)


def output_fn(probabilities, accept):
    return "".join(",".join(f"{p:.6f}" for p in row) + "\n" for row in probabilities)
