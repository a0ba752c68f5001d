"""Tabular classification in SageMaker script mode (scikit-learn).

Training: SM_CHANNEL_TRAIN holds train.csv and schema.json (label, features, task,
classes); hyperparameters arrive as --name value. Text columns are one-hot encoded,
numbers pass through, and a histogram gradient-boosting classifier learns the label.
Serving (batch transform): model_fn, input_fn, predict_fn, output_fn; each CSV row
(the features in the config's order) gets {"label": ..., "probabilities": {...}}.
"""

import argparse
import io
import json
import os

import joblib
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_iter", type=int, default=200)
    parser.add_argument("--max_leaf_nodes", type=int, default=31)
    args = parser.parse_args()

    train_dir = os.environ["SM_CHANNEL_TRAIN"]
    with open(os.path.join(train_dir, "schema.json")) as handle:
        schema = json.load(handle)
    table = pd.read_csv(os.path.join(train_dir, "train.csv"))
    features = schema["features"]
    text_columns = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), text_columns), remainder="passthrough"),
        HistGradientBoostingClassifier(
            learning_rate=args.learning_rate, max_iter=args.max_iter, max_leaf_nodes=args.max_leaf_nodes, random_state=0
        ),
    )
    model.fit(table[features], table[schema["label"]].astype(str))
    joblib.dump({"model": model, "features": features}, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
    print(f"trained on {len(table)} rows, {len(features)} features, classes {', '.join(model.classes_)}")


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"send text/csv, not {content_type}")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return pd.read_csv(io.StringIO(text), header=None)


def predict_fn(rows, loaded):
    rows.columns = loaded["features"]
    model = loaded["model"]
    classes = [str(c) for c in model.classes_]
    return [
        {"label": classes[scores.argmax()], "probabilities": {c: round(float(s), 4) for c, s in zip(classes, scores)}}
        for scores in model.predict_proba(rows)
    ]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
