"""A scikit-learn script as SageMaker's examples write them: every file of a channel read with header=None, the label
first, the held-out rows in a channel named test, and the container's default serving (only model_fn here)."""

import argparse
import os

import joblib
import pandas as pd
from sagemaker_containers.beta.framework import encoders  # noqa: F401  (the container's module, as examples import it)
from sklearn.ensemble import RandomForestClassifier


def read_channel(directory):
    files = [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
    if not files:
        raise ValueError(f"there are no files in {directory}")
    return pd.concat([pd.read_csv(path, header=None, engine="python") for path in files])


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n_estimators", type=int, default=10)
    parser.add_argument("--model-dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--test", type=str, default=os.environ.get("SM_CHANNEL_TEST"))
    args, _ = parser.parse_known_args()

    train, test = read_channel(args.train), read_channel(args.test)
    model = RandomForestClassifier(n_estimators=args.n_estimators, random_state=0)
    model.fit(train.iloc[:, 1:], train.iloc[:, 0])
    print(f"test accuracy: {model.score(test.iloc[:, 1:], test.iloc[:, 0]):.3f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
