"""Train step (SageMaker scikit-learn, script mode) and the model's serving functions.

Training reads SM_CHANNEL_TRAIN and writes the fitted pipeline to
SM_MODEL_DIR; SageMaker packs that directory as model.tar.gz. Batch
transform loads it with model_fn and answers with one JSON line per row.
"""

import argparse
import io
import json
import os

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ESTIMATORS = {
    "sklearn.gradient_boosting": GradientBoostingClassifier,
    "sklearn.random_forest": RandomForestClassifier,
    "sklearn.logistic_regression": LogisticRegression,
}


def build_model(model_type: str, hyperparameters: dict, table: pd.DataFrame) -> Pipeline:
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    categorical = [c for c in table.columns if c not in numeric]
    features = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), numeric),
        ]
    )
    return Pipeline([("features", features), ("model", ESTIMATORS[model_type](**hyperparameters))])


def train() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-type", required=True, choices=sorted(ESTIMATORS))
    parser.add_argument("--hyperparameters", default="{}", help="JSON object")
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    args = parser.parse_args()

    table = pd.read_csv(os.path.join(args.train, "train.csv"))
    labels = table.pop(args.label_column)
    model = build_model(args.model_type, json.loads(args.hyperparameters), table)
    model.fit(table, labels)
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    schema = {"features": list(table.columns), "dtypes": {c: str(t) for c, t in table.dtypes.items()}}
    with open(os.path.join(args.model_dir, "features.json"), "w") as handle:
        json.dump(schema, handle)
    print(f"trained {args.model_type} on {len(table)} rows; classes: {', '.join(map(str, model.classes_))}")


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
