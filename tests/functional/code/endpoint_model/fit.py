"""Fit the tiny classifier the endpoint tests serve: `python fit.py OUT_DIR [--flip]` (flip: the labels inverted,
so a second model answers differently). Run with the sklearn image's Python, whose scikit-learn serves it."""

import os
import sys

import joblib
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

rows, labels = make_classification(n_samples=200, n_features=4, random_state=0)
if "--flip" in sys.argv:
    labels = 1 - labels
os.makedirs(sys.argv[1], exist_ok=True)
joblib.dump(LogisticRegression().fit(rows, labels), os.path.join(sys.argv[1], "model.joblib"))
