"""mlrelay's built-in models: scikit-learn in SageMaker script mode, through the same contract as yours.

Training reads the train channel (train.csv and schema.json, written by the
Split step), takes its settings as hyperparameters (--algorithm and the
estimator's own), and writes the fitted pipeline to SM_MODEL_DIR. Batch
transform loads it with model_fn and answers one JSON line per CSV row:
{"label": ..., "probabilities": {...}} for classification, {"value": ...} for
regression.
"""

import argparse
import io
import json
import os

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ESTIMATORS = {
    ("gradient_boosting", False): GradientBoostingClassifier,
    ("gradient_boosting", True): GradientBoostingRegressor,
    ("random_forest", False): RandomForestClassifier,
    ("random_forest", True): RandomForestRegressor,
    ("logistic_regression", False): LogisticRegression,
}
NOT_FOR_REGRESSION = {"class_weight"}


def hyperparameter(text):
    """Script mode passes every value as text: give numbers, None and booleans back their type."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"None": None, "True": True, "False": False}.get(text, text)


def build_model(algorithm, regression, hyperparameters, table):
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    categorical = [c for c in table.columns if c not in numeric]
    features = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), numeric),
        ]
    )
    if regression:
        hyperparameters = {k: v for k, v in hyperparameters.items() if k not in NOT_FOR_REGRESSION}
    return Pipeline([("features", features), ("model", ESTIMATORS[(algorithm, regression)](**hyperparameters))])


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithm", required=True, choices=sorted({a for a, _ in ESTIMATORS}))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    args, rest = parser.parse_known_args()
    # The estimator's own hyperparameters arrive as --name value pairs.
    hyperparameters = {rest[i].lstrip("-"): hyperparameter(rest[i + 1]) for i in range(0, len(rest), 2)}

    with open(os.path.join(args.train, "schema.json")) as handle:
        schema = json.load(handle)
    table = pd.read_csv(os.path.join(args.train, "train.csv"))
    labels = table.pop(schema["label"])
    regression = schema["task"] == "regression"
    model = build_model(args.algorithm, regression, hyperparameters, table[schema["features"]])
    model.fit(table[schema["features"]], labels if regression else labels.astype(str))
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    dtypes = {c: str(t) for c, t in table[schema["features"]].dtypes.items()}
    with open(os.path.join(args.model_dir, "features.json"), "w") as handle:
        json.dump({"features": schema["features"], "dtypes": dtypes, "task": schema["task"]}, handle)
    print(f"trained {args.algorithm} ({schema['task']}) on {len(table)} rows")


# --- serving (the scikit-learn container calls these by name) -----------------


def model_fn(model_dir):
    with open(os.path.join(model_dir, "features.json")) as handle:
        schema = json.load(handle)
    return {"model": joblib.load(os.path.join(model_dir, "model.joblib")), "schema": schema}


def input_fn(request_body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"content type {content_type!r} is not supported; send text/csv")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return pd.read_csv(io.StringIO(text), header=None)


def predict_fn(rows, loaded):
    schema = loaded["schema"]
    rows.columns = schema["features"]
    rows = rows.astype(schema["dtypes"])
    model = loaded["model"]
    if schema["task"] == "regression":
        return [{"value": float(value)} for value in model.predict(rows)]
    probabilities = model.predict_proba(rows)
    classes = [str(c) for c in model.classes_]
    return [
        {"label": classes[row.argmax()], "probabilities": dict(zip(classes, map(float, row.round(6))))}
        for row in probabilities
    ]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
