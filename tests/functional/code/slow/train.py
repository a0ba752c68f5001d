"""A classifier of the numeric features, which pauses first for the seconds its folder's `pause_seconds` file says
(and before it serves, `serve_pause_seconds`): a Train or Transform step long enough for a test to stop the stack
during it."""

import argparse
import io
import json
import os
import time

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train():
    pause = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pause_seconds")
    time.sleep(float(open(pause).read()) if os.path.exists(pause) else 0)  # loading a large table, say
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=1.0)  # one-letter names arrive as -C (the training toolkit)
    parser.add_argument("--fit_intercept", default="True")
    args = parser.parse_args()
    with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "schema.json")) as handle:
        schema = json.load(handle)
    table = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, fit_intercept=args.fit_intercept == "True", max_iter=2000))
    numeric = [name for name in schema["features"] if pd.api.types.is_numeric_dtype(table[name])]
    model.fit(table[numeric], table[schema["label"]].astype(str))
    saved = {"model": model, "features": schema["features"], "numeric": numeric}
    joblib.dump(saved, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))


def model_fn(model_dir):
    pause = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_pause_seconds")
    time.sleep(float(open(pause).read()) if os.path.exists(pause) else 0)  # a transform long enough to stop the stack in
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type="text/csv"):
    return pd.read_csv(io.StringIO(body), header=None)


def predict_fn(rows, loaded):
    rows.columns = loaded["features"]
    model = loaded["model"]
    classes = [str(c) for c in model.classes_]
    probabilities = model.predict_proba(rows[loaded["numeric"]])
    return [{"label": classes[p.argmax()], "probabilities": dict(zip(classes, p.tolist(), strict=True))} for p in probabilities]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
