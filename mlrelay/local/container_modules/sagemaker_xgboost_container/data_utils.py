"""get_dmatrix and get_content_type, as the container's data_utils (release-3.0.5) has them, for file mode.

The container gathers a channel's files, up to 3 folders deep, as symlinks in one
folder and hands that folder to XGBoost's own text readers: CSV with the label in
the first column and no header, or libsvm. Here each call gathers into a folder of
its own rather than the container's fixed /tmp/sagemaker_xgboost_input_data, which
two local jobs would share.
"""

import csv
import logging
import os
import tempfile

import xgboost as xgb
from sagemaker_algorithm_toolkit import exceptions as exc

CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF = "csv", "libsvm", "parquet", "recordio-protobuf"
VALID_CONTENT_TYPES = [CSV, "text/csv", LIBSVM, "text/libsvm", "text/x-libsvm", PARQUET, "application/x-parquet",
                       RECORDIO_PROTOBUF, "application/x-recordio-protobuf"]
MAX_FOLDER_DEPTH = 3


def get_content_type(content_type_cfg_val):
    """'libsvm', 'text/libsvm', 'text/x-libsvm' -> 'libsvm'; 'csv', 'text/csv', 'text/csv;label_size=1' -> 'csv'; None -> 'libsvm'."""
    if content_type_cfg_val is None:
        return LIBSVM
    content_type, _, parameters = content_type_cfg_val.lower().partition(";")
    content_type = content_type.strip()
    params = dict(p.strip().split("=", 1) for p in parameters.split(";") if "=" in p)
    if content_type in (CSV, "text/csv"):
        if params.get("label_size", "1") != "1":
            raise exc.UserError(f"{content_type_cfg_val} is not an accepted csv ContentType. "
                                "Optional parameter label_size must be equal to 1")
        return CSV
    if content_type in (LIBSVM, "text/libsvm", "text/x-libsvm"):
        return LIBSVM
    if content_type in (PARQUET, "application/x-parquet"):
        return PARQUET
    if content_type in (RECORDIO_PROTOBUF, "application/x-recordio-protobuf"):
        return RECORDIO_PROTOBUF
    raise exc.UserError(f"{content_type_cfg_val} is not an accepted ContentType: {', '.join(VALID_CONTENT_TYPES)}.")


def get_dmatrix(data_path, content_type, csv_weights=0, is_pipe=False):
    """An xgb.DMatrix of every file under data_path (a folder, a file, or a list of them); the label is the first column."""
    if is_pipe:
        raise exc.UserError("Pipe mode: the embedded stack stages File mode inputs only")
    files_path = _get_file_mode_files_path(data_path)
    if files_path is None:
        return None
    kind = content_type.lower()
    if kind == CSV:
        dmatrix = _get_csv_dmatrix(files_path, csv_weights)
    elif kind == LIBSVM:
        dmatrix = get_libsvm_dmatrix(files_path)
    elif kind == PARQUET:
        dmatrix = _get_parquet_dmatrix(files_path)
    else:
        # the container's branches compare with the short names only: 'text/csv' here fails there too
        raise UnboundLocalError(f"get_dmatrix reads 'csv', 'libsvm' or 'parquet', not {content_type!r}: "
                                "pass get_content_type(...) of it, as the container's own training does")
    if dmatrix and dmatrix.get_label().size == 0:
        raise exc.UserError("Got input data without labels. Please check the input data set.")
    return dmatrix


def get_libsvm_dmatrix(files_path, is_pipe=False):
    if is_pipe:
        raise exc.UserError("Pipe mode not supported for LibSVM.")
    try:
        return xgb.DMatrix(_uri(files_path, "libsvm"))
    except Exception as e:
        raise exc.UserError(f"Failed to load libsvm data with exception:\n{e}") from e


def _get_csv_dmatrix(files_path, csv_weights):
    first = sorted(f for f in os.listdir(files_path) if os.path.isfile(os.path.join(files_path, f)))[0]
    with open(os.path.join(files_path, first)) as read_file:
        sample_csv_line = read_file.readline()
    try:
        delimiter = csv.Sniffer().sniff(sample_csv_line).delimiter
    except Exception as e:
        raise exc.UserError(f"Could not determine delimiter on line {sample_csv_line[:50]}:\n{e}") from e
    weights = "&weight_column=1" if csv_weights == 1 else ""
    try:
        return xgb.DMatrix(f"{files_path}?format=csv&label_column=0&delimiter={delimiter}{weights}")
    except Exception as e:
        raise exc.UserError(f"Failed to load csv data with exception:\n{e}") from e


def _get_parquet_dmatrix(files_path):
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(files_path).to_pandas().to_numpy()
        return xgb.DMatrix(data[:, 1:], label=data[:, 0])
    except Exception as e:
        raise exc.UserError(f"Failed to load parquet data with exception:\n{e}") from e


def _uri(files_path, data_format):
    # XGBoost 1.x reads libsvm by default and knows no ?format=libsvm on a folder; 2.0 and later need it
    return files_path if xgb.__version__.startswith("1.") else f"{files_path}?format={data_format}"


class _TooDeep(Exception):
    pass


def _get_file_mode_files_path(data_path):
    files_path = tempfile.mkdtemp(prefix="sagemaker_xgboost_input_data-")
    paths = data_path if isinstance(data_path, list) else [data_path]
    if not isinstance(data_path, list) and (data_path is None or not os.path.exists(data_path)):
        logging.info("File path %s does not exist!", data_path)
        return None
    for path in paths:
        try:
            _link_files(files_path, path, 1)
        except _TooDeep:
            # as the container: the walk of this path stops at the first folder too deep, files after it unread
            logging.warning("The depth of folder %s exceed the limit %s. Files in deeper sub dirs won't be loaded. "
                            "Please adjust the folder structure accordingly.", path, MAX_FOLDER_DEPTH)
    return files_path


def _link_files(dest_path, data_path, depth):
    if depth > MAX_FOLDER_DEPTH:
        raise _TooDeep()
    if os.path.isfile(data_path):
        _link(data_path, dest_path)
        return
    for item in os.scandir(data_path):
        if item.is_file():
            _link(item.path, dest_path)
        elif item.is_dir():
            _link_files(dest_path, item.path, depth + 1)


def _link(path, dest_path):
    name = os.path.basename(path)
    os.symlink(path, os.path.join(dest_path, f"{name}{abs(hash(path))}"))
