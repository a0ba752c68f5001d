"""The serving functions a framework container uses where the code defines none, as the containers' sources have them.

scikit-learn (sagemaker-scikit-learn-container 1.2-1, serving.py, with
sagemaker-containers' encoders): no model_fn; CSV rows to a numpy array, squeezed,
as float32 (a blank cell is an error); model.predict; JSON, CSV or NPY out.
XGBoost (sagemaker-xgboost-container, serving.py and encoder.py): no model_fn;
CSV (a blank cell is NaN) or libsvm to a DMatrix, by the image's encoder module
(mlrelay/local/container_modules); model.predict(validate_features=False); the
same encoders out. PyTorch (sagemaker-pytorch-inference-toolkit 2.0.25): the
TorchScript model.pt; CSV or JSON to a float32 tensor; model(data) under no_grad
in eval mode; JSON, CSV or NPY out, the first the Accept header names.
Imported by mlrelay/local/transform_host.py inside the image's environment: only the
standard library at the top, each framework's modules where used.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class UnsupportedFormatError(ValueError):
    """The containers answer 415 (input) or 406 (output): batch transform fails its record."""


def _text(body: str | bytes) -> str:
    return body.decode() if isinstance(body, bytes) else body


def no_model_fn(model_dir: str) -> Any:
    # sagemaker-containers' default_model_fn: scikit-learn and XGBoost serving need the code's own
    raise NotImplementedError("Please provide a model_fn implementation. See documentation for model_fn at "
                              "https://sagemaker.readthedocs.io/en/stable/")


def csv_to_numpy(body: str, dtype: Any = None) -> Any:
    """sagemaker-containers' csv_to_numpy: rows squeezed (one row is 1-D); a cell that is no number stays text."""
    import numpy as np

    array = np.array(list(csv.reader(io.StringIO(body), delimiter=",", quotechar='"', doublequote=True, strict=True))).squeeze()
    try:
        return array.astype(dtype)
    except ValueError:
        if dtype is not None:
            raise
        return array


def encode(prediction: Any, accept: str) -> str | bytes:
    """sagemaker-containers' encoders: application/json, text/csv and application/x-npy."""
    import numpy as np

    if accept == "application/json":
        return json.dumps(prediction.tolist() if hasattr(prediction, "tolist") else prediction)
    if accept == "text/csv":
        stream = io.StringIO()
        np.savetxt(stream, np.asarray(prediction), delimiter=",", fmt="%s")
        return stream.getvalue()
    if accept == "application/x-npy":
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction))
        return buffer.getvalue()
    raise UnsupportedFormatError(f"the container's default output_fn encodes application/json, text/csv or "
                                 f"application/x-npy, not {accept}: define output_fn(prediction, accept) in the code")


def sklearn_input_fn(body: str | bytes, content_type: str) -> Any:
    import numpy as np

    if content_type == "text/csv":
        return csv_to_numpy(_text(body)).astype(np.float32)
    if content_type == "application/json":
        return np.array(json.loads(_text(body))).astype(np.float32)
    raise UnsupportedFormatError(f"the scikit-learn container's default input_fn reads text/csv or application/json, "
                                 f"not {content_type}: define input_fn")


def sklearn_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


def xgboost_input_fn(body: str | bytes, content_type: str) -> Any:
    # the image's own encoder (here its stand-in); it assumes a payload without leading or trailing newlines
    from sagemaker_xgboost_container import encoder

    return encoder.decode(body.strip("\n") if isinstance(body, str) else body, content_type)


def xgboost_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data, validate_features=False)


def pytorch_model_fn(model_dir: str) -> Any:
    import torch

    path = os.path.join(model_dir, "model.pt")
    if not os.path.exists(path):
        found = [name for name in os.listdir(model_dir) if name.endswith((".pt", ".pth"))]
        if len(found) != 1:
            raise ValueError(f"Exactly one .pth or .pt file is required for PyTorch models: {found}")
        path = os.path.join(model_dir, found[0])
    try:
        return torch.jit.load(path, map_location=torch.device("cpu"))
    except RuntimeError as err:
        raise RuntimeError(f"Failed to load {path}. Please ensure model is saved using torchscript.") from err


def pytorch_input_fn(body: str | bytes, content_type: str) -> Any:
    import numpy as np
    import torch

    if content_type == "text/csv":
        return torch.FloatTensor(np.genfromtxt(io.StringIO(_text(body)), dtype=None, delimiter=","))
    if content_type == "application/json":
        return torch.FloatTensor(np.array(json.loads(_text(body))))
    raise UnsupportedFormatError(f"the PyTorch container's default input_fn reads text/csv or application/json, "
                                 f"not {content_type}: define input_fn")


def pytorch_predict_fn(data: Any, model: Any) -> Any:
    import torch

    with torch.no_grad():
        model.eval()
        return model(data)


def pytorch_output_fn(prediction: Any, accept: str) -> str | bytes:
    if hasattr(prediction, "detach"):
        prediction = prediction.detach().cpu().numpy().tolist()
    for media_type in accept.replace(" ", "").split(","):
        if media_type in ("application/json", "text/csv", "application/x-npy"):
            return encode(prediction, media_type)
    raise UnsupportedFormatError(f"the PyTorch container's default output_fn encodes application/json, text/csv or "
                                 f"application/x-npy, not {accept}: define output_fn(prediction, accept) in the code")


@dataclass(frozen=True)
class Defaults:
    model_fn: Callable[[str], Any]
    input_fn: Callable[[str | bytes, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], str | bytes]


DEFAULTS = {
    "sklearn": Defaults(no_model_fn, sklearn_input_fn, sklearn_predict_fn, encode),
    "xgboost": Defaults(no_model_fn, xgboost_input_fn, xgboost_predict_fn, encode),
    "pytorch": Defaults(pytorch_model_fn, pytorch_input_fn, pytorch_predict_fn, pytorch_output_fn),
}
