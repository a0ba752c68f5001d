"""The containers' behaviour the embedded stack copies: default serving functions and the XGBoost module's stand-ins.

Run here with this machine's numpy and XGBoost; the functional tests run them in the images' environments.
"""

import sys

import numpy as np
import pytest

from mlrelay.local import container_modules, serving_defaults
from mlrelay.local.image_libraries import IMAGES, UnrunnableImageError, libraries_for
from mlrelay.local.serving_defaults import UnsupportedFormatError

sys.path.insert(0, str(container_modules.HERE))

from sagemaker_algorithm_toolkit.exceptions import UserError
from sagemaker_xgboost_container import distributed
from sagemaker_xgboost_container.data_utils import get_content_type, get_dmatrix


def test_the_scikit_learn_containers_default_input_refuses_a_blank_cell_and_squeezes_one_row():
    assert serving_defaults.sklearn_input_fn("1,2\n3,4\n", "text/csv").dtype == np.float32
    assert serving_defaults.sklearn_input_fn("1,2\n", "text/csv").shape == (2,)  # model.predict then refuses it, as there
    with pytest.raises(ValueError, match="could not convert string to float"):
        serving_defaults.sklearn_input_fn("1,2\n3,\n", "text/csv")


def test_the_xgboost_containers_default_input_reads_a_blank_cell_as_missing_and_libsvm_lines():
    rows = serving_defaults.xgboost_input_fn("1,2\n3,\n", "text/csv")
    sparse = serving_defaults.xgboost_input_fn("0 1:1.5 3:2.0\n0 2:4.0\n", "text/libsvm")

    assert (rows.num_row(), rows.num_col()) == (2, 2)
    assert (sparse.num_row(), sparse.num_col()) == (2, 4)  # indices as written: column 0 unused
    with pytest.raises(ValueError, match="define input_fn"):
        serving_defaults.xgboost_input_fn("{}", "application/json")


def test_the_default_output_writes_json_csv_or_npy_and_names_output_fn_for_anything_else():
    assert serving_defaults.encode(np.array([1.5, 2.0]), "text/csv") == "1.5\n2.0\n"
    assert serving_defaults.encode(np.array([1, 2]), "application/json") == "[1, 2]"
    with pytest.raises(UnsupportedFormatError, match="not application/jsonlines: define output_fn"):
        serving_defaults.encode(np.array([1]), "application/jsonlines")


def test_scikit_learn_and_xgboost_serving_need_the_codes_model_fn():
    with pytest.raises(NotImplementedError, match="Please provide a model_fn implementation"):
        serving_defaults.DEFAULTS["xgboost"].model_fn("/opt/ml/model")


def test_get_dmatrix_reads_every_file_of_a_channel_up_to_three_folders_deep(tmp_path):
    channel, rows_channel = tmp_path / "train", tmp_path / "csv"
    (channel / "a" / "b").mkdir(parents=True)
    (channel / "part-1.libsvm").write_text("5 1:1.0 2:2.0\n6 1:2.0\n")
    (channel / "a" / "b" / "part-2.libsvm").write_text("7 2:3.0\n")
    rows_channel.mkdir()
    (rows_channel / "rows.csv").write_text("1,0.5,2\n0,1.5,\n")

    libsvm = get_dmatrix(str(channel), "libsvm")
    rows = get_dmatrix(str(rows_channel), "csv")

    assert sorted(libsvm.get_label().tolist()) == [5.0, 6.0, 7.0]
    assert rows.get_label().tolist() == [1.0, 0.0] and rows.num_col() == 2  # the label is the first column
    assert get_dmatrix(str(tmp_path / "missing"), "libsvm") is None
    deep = tmp_path / "deep"
    (deep / "a" / "b" / "c").mkdir(parents=True)
    (deep / "a" / "b" / "c" / "part.libsvm").write_text("1 1:1.0\n")
    with pytest.raises(UserError):  # a fourth folder's files are not read: here, nothing is
        get_dmatrix(str(deep), "libsvm")
    with pytest.raises(UnboundLocalError, match="pass get_content_type"):
        get_dmatrix(str(rows_channel), "text/csv")  # the container compares with the short names only


@pytest.mark.parametrize(("given", "expected"), [
    (None, "libsvm"), ("text/libsvm", "libsvm"), ("text/x-libsvm", "libsvm"), ("CSV", "csv"), ("text/csv;label_size=1", "csv"),
])
def test_get_content_type_as_the_container_reads_a_channels_content_type(given, expected):
    assert get_content_type(given) == expected


def test_get_content_type_refuses_a_label_size_other_than_one_and_unknown_types():
    with pytest.raises(UserError, match="label_size must be equal to 1"):
        get_content_type("text/csv;label_size=2")
    with pytest.raises(UserError, match="not an accepted ContentType"):
        get_content_type("application/json")


def test_rabit_run_on_one_host_calls_the_function_as_master_and_refuses_several():
    called = []
    assert distributed.rabit_run(lambda **a: called.append(a), {"x": 1}, True, ["algo-1"], "algo-1",
                                 update_rabit_args=True) is None  # the container's returns nothing either
    assert called == [{"x": 1, "is_master": True}]
    with pytest.raises(RuntimeError, match="set training.instance_count to 1"):
        distributed.rabit_run(lambda **a: a, {}, True, ["algo-1", "algo-2"], "algo-1")
    with pytest.raises(SystemExit) as ended:
        distributed.rabit_run(lambda **a: a, {}, False, ["algo-1"], "algo-1")
    assert ended.value.code == 0


def test_every_framework_image_but_hugging_faces_has_pinned_libraries_and_the_refusals_say_why():
    from chalicelib.shared.images import image_uri
    from mlrelay.pipeline_builder.images import SUPPORTED

    runnable = {(f, v) for f, versions in SUPPORTED.items() for v in versions if f != "huggingface"}
    assert set(IMAGES) == runnable
    for framework, version in runnable:
        libraries = libraries_for(image_uri(framework, version, "training", "eu-west-1", "ml.m5.large"))
        assert (libraries.framework, libraries.version) == (framework, version)
        assert all(pin in libraries.pins for pin in libraries.substitutes)
    with pytest.raises(UnrunnableImageError, match="its training image is GPU-only"):
        libraries_for(image_uri("huggingface", "4.49.0", "training", "us-east-1", "ml.g5.xlarge"))
    with pytest.raises(UnrunnableImageError, match="a custom image"):
        libraries_for("123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1")
