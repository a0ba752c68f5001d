"""A decision tree fitted on rows with missing values: scikit-learn 1.3 and later accept NaN in trees, the 1.2-1
image's scikit-learn 1.2.1 refuses it. Passes with a newer library, fails in the image, on AWS as locally."""

import json
import os

import joblib
import pandas as pd
from sklearn.tree import DecisionTreeClassifier


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    channel = os.environ["SM_CHANNEL_TRAIN"]
    with open(os.path.join(channel, "schema.json")) as handle:
        schema = json.load(handle)
    train = pd.read_csv(os.path.join(channel, "train.csv"))
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(train[schema["features"]], train[schema["label"]])
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
