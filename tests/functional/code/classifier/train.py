"""A team's own classifier in script mode: logistic regression on whatever numeric features the schema names."""

import argparse
import io
import json
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=1.0)  # one-letter names arrive as -C (the training toolkit)
    parser.add_argument("--fit_intercept", default="True")
    args = parser.parse_args()
    with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "schema.json")) as handle:
        schema = json.load(handle)
    table = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, fit_intercept=args.fit_intercept == "True", max_iter=2000))
    model.fit(table[schema["features"]], table[schema["label"]].astype(str))
    joblib.dump({"model": model, "features": schema["features"]}, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type="text/csv"):
    return pd.read_csv(io.StringIO(body), header=None)


def predict_fn(rows, loaded):
    rows.columns = loaded["features"]
    model = loaded["model"]
    classes = [str(c) for c in model.classes_]
    return [{"label": classes[p.argmax()], "probabilities": dict(zip(classes, p.tolist(), strict=True))} for p in model.predict_proba(rows)]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
