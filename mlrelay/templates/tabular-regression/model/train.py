"""Tabular regression in SageMaker script mode (scikit-learn).

Training: SM_CHANNEL_TRAIN holds train.csv and schema.json (label, features, task);
hyperparameters arrive as --name value. Text columns are one-hot encoded, numbers
pass through. Targets like weights and prices span orders of magnitude, so the model
learns log(1 + target) and predicts back on the original scale. It also writes its
own metric, the share of validation rows within 25% of the truth, to metrics.json
(mlrelay adds it to the evaluation as custom.within_25pct).
Serving (batch transform): each CSV row (the features in the config's order) gets {"value": ...}.
"""

import argparse
import io
import json
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor, make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--max_iter", type=int, default=300)
    parser.add_argument("--log_target", default="true")
    args = parser.parse_args()

    with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "schema.json")) as handle:
        schema = json.load(handle)
    label, features = schema["label"], schema["features"]
    table = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
    validation = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_VALIDATION"], "validation.csv"))
    text_columns = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    regressor = HistGradientBoostingRegressor(learning_rate=args.learning_rate, max_iter=args.max_iter, random_state=0)
    if args.log_target.lower() == "true":
        regressor = TransformedTargetRegressor(regressor, func=np.log1p, inverse_func=np.expm1)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), text_columns), remainder="passthrough"),
        regressor,
    )
    model.fit(table[features], table[label].astype(float))
    predicted, truth = model.predict(validation[features]), validation[label].to_numpy(dtype=float)
    within = float(np.mean(np.abs(predicted - truth) <= 0.25 * np.abs(truth)))
    model_dir = os.environ["SM_MODEL_DIR"]
    joblib.dump({"model": model, "features": features}, os.path.join(model_dir, "model.joblib"))
    with open(os.path.join(model_dir, "metrics.json"), "w") as handle:
        json.dump({"within_25pct": within}, handle)
    print(f"trained on {len(table)} rows; {within:.1%} of validation rows within 25% of the truth")


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"send text/csv, not {content_type}")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return pd.read_csv(io.StringIO(text), header=None)


def predict_fn(rows, loaded):
    rows.columns = loaded["features"]
    return [{"value": round(float(v), 3)} for v in loaded["model"].predict(rows)]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
