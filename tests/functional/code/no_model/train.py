"""Training code that forgets to save its model: SageMaker passes its Train step, the run fails there all the same."""

import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    print("trained; the model was never written to SM_MODEL_DIR")
