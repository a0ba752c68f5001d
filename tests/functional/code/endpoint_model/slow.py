"""The same serving code with a predict_fn that takes 2 s (a request past the test's 1 s invocation timeout)."""

import time

from serve import input_fn, model_fn, output_fn  # noqa: F401 - the serving functions the container looks up
from serve import predict_fn as predict


def predict_fn(rows, model):
    time.sleep(2)
    return predict(rows, model)
