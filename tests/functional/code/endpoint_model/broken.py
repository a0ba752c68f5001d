"""The same serving code with a model_fn that cannot load its model (a create must fail naming this line)."""

from serve import input_fn, output_fn, predict_fn  # noqa: F401 - the serving functions the container looks up


def model_fn(model_dir):
    raise ValueError("model.joblib was written by an incompatible library version")
