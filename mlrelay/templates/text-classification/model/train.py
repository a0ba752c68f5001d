"""Short text classification in SageMaker script mode (scikit-learn): product titles in any language.

One model for every language: the title is cut into character n-grams within words
(TF-IDF, "char_wb"), which needs no tokenizer, no word lists and no downloaded
embeddings, and works the same for "whole milk", "Vollmilch" and "mleko pełne".
A linear classifier on top trains in seconds on a CPU.

Training: SM_CHANNEL_TRAIN holds train.csv and schema.json (label, features, task,
classes); the text features (usually one title column) are joined with spaces.
Serving (batch transform): each CSV row (the features in the config's order) gets
{"label": ..., "probabilities": {...}}.
"""

import argparse
import io
import json
import os

import joblib
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline


def texts(frame, features):
    return frame[features].fillna("").astype(str).agg(" ".join, axis=1).str.lower()


def train():
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", type=float, default=10.0)  # one-letter names arrive as -C (the training toolkit)
    parser.add_argument("--min_ngram", type=int, default=2)
    parser.add_argument("--max_ngram", type=int, default=4)
    args = parser.parse_args()

    with open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "schema.json")) as handle:
        schema = json.load(handle)
    features = schema["features"]
    table = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(args.min_ngram, args.max_ngram), sublinear_tf=True, min_df=1),
        LogisticRegression(C=args.C, max_iter=2000),
    )
    model.fit(texts(table, features), table[schema["label"]].astype(str))
    joblib.dump({"model": model, "features": features}, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
    print(f"trained on {len(table)} titles, {len(model[0].vocabulary_)} character n-grams, {len(model.classes_)} classes")


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"send text/csv, not {content_type}")
    text = request_body.decode() if isinstance(request_body, bytes) else request_body
    return pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)


def predict_fn(rows, loaded):
    rows.columns = loaded["features"]
    model = loaded["model"]
    classes = [str(c) for c in model.classes_]
    return [
        {"label": classes[scores.argmax()], "probabilities": {c: round(float(s), 4) for c, s in zip(classes, scores)}}
        for scores in model.predict_proba(texts(rows, loaded["features"]))
    ]


def output_fn(predictions, accept="application/jsonlines"):
    return "".join(json.dumps(p) + "\n" for p in predictions)


if __name__ == "__main__":
    train()
