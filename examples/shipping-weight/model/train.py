"""Shipping weight: an XGBoost regression in SageMaker script mode.

Training: the train and validation channels hold train.csv / validation.csv
and schema.json (label, features); hyperparameters arrive as --name value.
Weight grows with volume and spans three orders of magnitude, so the model
learns log(weight) from the features plus the volume, and predicts its exp.
The model, the one-hot column layout and metrics.json (our own metric, which
mlrelay adds to the evaluation as custom.within_25pct) go to SM_MODEL_DIR.
Serving: SageMaker's batch transform calls model_fn, input_fn, predict_fn and
output_fn; each CSV row (the features in the config's order) gets {"value": ...}.
"""

import argparse
import io
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb


def encode(frame, columns=None):
    """The volume, and the text columns one-hot; at prediction time, the training columns in their order."""
    frame = frame.assign(volume_cm3=frame["length_cm"] * frame["width_cm"] * frame["height_cm"])
    encoded = pd.get_dummies(frame, dtype=float)
    return encoded if columns is None else encoded.reindex(columns=columns, fill_value=0.0)


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_round", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--objective", default="reg:squarederror")
    args = parser.parse_args()

    train_dir, validation_dir = os.environ["SM_CHANNEL_TRAIN"], os.environ["SM_CHANNEL_VALIDATION"]
    with open(os.path.join(train_dir, "schema.json")) as handle:
        schema = json.load(handle)
    label, features = schema["label"], schema["features"]
    train_table = pd.read_csv(os.path.join(train_dir, "train.csv"))
    validation_table = pd.read_csv(os.path.join(validation_dir, "validation.csv"))
    x_train = encode(train_table[features])
    x_validation = encode(validation_table[features], list(x_train.columns))
    booster = xgb.train(
        {"max_depth": args.max_depth, "eta": args.eta, "objective": args.objective},
        xgb.DMatrix(x_train, label=np.log1p(train_table[label])),
        num_boost_round=args.num_round,
    )
    predicted = np.expm1(booster.predict(xgb.DMatrix(x_validation)))
    truth = validation_table[label].to_numpy()
    within = float(np.mean(np.abs(predicted - truth) <= 0.25 * np.abs(truth)))

    model_dir = os.environ["SM_MODEL_DIR"]
    booster.save_model(os.path.join(model_dir, "model.json"))
    with open(os.path.join(model_dir, "layout.json"), "w") as handle:
        json.dump({"features": features, "columns": list(x_train.columns)}, handle)
    with open(os.path.join(model_dir, "metrics.json"), "w") as handle:
        json.dump({"within_25pct": within}, handle)
    print(f"trained on {len(train_table)} rows; {within:.1%} of validation items within 25%")


def model_fn(model_dir):
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "model.json"))
    with open(os.path.join(model_dir, "layout.json")) as handle:
        return {"booster": booster, "layout": json.load(handle)}


def input_fn(request_body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"send text/csv, not {content_type}")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return pd.read_csv(io.StringIO(text), header=None)


def predict_fn(rows, model):
    layout = model["layout"]
    rows.columns = layout["features"]
    values = np.expm1(model["booster"].predict(xgb.DMatrix(encode(rows, layout["columns"]))))
    return [{"value": round(float(v), 3)} for v in values]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
