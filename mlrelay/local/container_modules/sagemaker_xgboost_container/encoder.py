"""csv_to_dmatrix, libsvm_to_dmatrix and decode, as the container's encoder (release-3.0.5) has them for script mode."""

import csv
import os
import tempfile

import numpy as np
import xgboost as xgb


class UnsupportedFormatError(ValueError):
    """sagemaker_containers' error for a content type no decoder reads: the container answers 415."""


def _clean_csv_string(csv_string, delimiter):
    return ["nan" if x == "" else x for x in csv_string.split(delimiter)]


def csv_to_dmatrix(input, dtype=None):
    """Every column a feature, a blank cell NaN. Assumes no leading or trailing newline, as the container's does."""
    csv_string = input.decode() if isinstance(input, bytes) else input
    sniff_delimiter = csv.Sniffer().sniff(csv_string.split("\n")[0][:512]).delimiter
    delimiter = "," if sniff_delimiter.isalnum() else sniff_delimiter
    rows = [_clean_csv_string(line, delimiter) for line in csv_string.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(dtype))


def libsvm_to_dmatrix(string_like):
    """The label of each line is read and not used for prediction."""
    data = string_like.encode() if isinstance(string_like, str) else string_like
    location = None
    try:
        with tempfile.NamedTemporaryFile(delete=False) as libsvm_file:
            location = libsvm_file.name
            libsvm_file.write(data)
        # XGBoost 1.x reads libsvm by default and knows no ?format=libsvm; 2.0 and later need it
        return xgb.DMatrix(location if xgb.__version__.startswith("1.") else f"{location}?format=libsvm")
    finally:
        if location and os.path.exists(location):
            os.remove(location)


_DECODERS = {"text/csv": csv_to_dmatrix, "text/libsvm": libsvm_to_dmatrix, "text/x-libsvm": libsvm_to_dmatrix}


def decode(obj, content_type):
    """The DMatrix of a request body, by its media type."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in _DECODERS:
        raise UnsupportedFormatError(f"the XGBoost container's default input_fn reads text/csv or text/libsvm, "
                                     f"not {content_type}: define input_fn")
    return _DECODERS[media_type](obj)
