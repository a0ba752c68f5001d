"""The libsvm layout's files, the predictions the containers' default output_fn writes, and a model's pipeline copy
serving its layout."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from chalicelib.shared.model_pipelines import with_layout

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "pipelines" / "scripts"))

import libsvm  # noqa: E402
from prediction_lines import ClassNumbers, read_prediction  # noqa: E402

TRAINING = json.loads((ROOT / "pipelines" / "training.pipeline.json").read_text())


def test_libsvm_lines_number_features_from_one_leave_out_missing_values_and_read_back(tmp_path):
    frame = pd.DataFrame({"kind": ["BOX", "TUBE"], "length": [1.5, float("nan")], "weight": [0.0, 12.0]})

    libsvm.write(frame, tmp_path / "part.libsvm", "kind", ["length", "weight"], ["BOX", "TUBE"])
    libsvm.write(frame, tmp_path / "unlabelled.libsvm", None, ["length", "weight"])

    assert (tmp_path / "part.libsvm").read_text() == "0 1:1.5 2:0.0\n1 2:12.0\n"  # a zero is a value, NaN is left out
    assert (tmp_path / "unlabelled.libsvm").read_text() == "0 1:1.5 2:0.0\n0 2:12.0\n"
    back = libsvm.read(tmp_path / "part.libsvm", "kind", ["length", "weight"], ["BOX", "TUBE"])
    assert back["kind"].tolist() == ["BOX", "TUBE"] and back["weight"].tolist() == [0.0, 12.0]
    assert pd.isna(back["length"][1])


def test_a_feature_holding_text_is_named_for_the_libsvm_layout():
    frame = pd.DataFrame({"length": [1.0], "material": ["cardboard"]})

    assert "the feature material holds text (e.g. 'cardboard')" in libsvm.numeric_problem(frame, ["length", "material"])
    assert libsvm.numeric_problem(frame, ["length"]) is None


@pytest.mark.parametrize(("line", "schema", "expected"), [
    ("BOX\n", {"classes": ["BOX", "TUBE"], "layout": "label_first"}, {"label": "BOX", "probabilities": {}}),
    ("3\n", {"classes": ["1", "3"], "layout": "label_first"}, {"label": "3", "probabilities": {}}),  # a label, not an index
    ("1.0\n", {"classes": ["BOX", "TUBE"], "layout": "libsvm"}, {"label": "TUBE", "probabilities": {}}),  # an index
    ("0.75\n", {"classes": ["no", "yes"], "layout": "libsvm"},
     {"label": "yes", "probabilities": {"no": 0.25, "yes": 0.75}}),  # binary:logistic's probability of the second class
    ("0.1,0.7,0.2\n", {"classes": ["A", "B", "C"], "layout": "label_first"},
     {"label": "B", "probabilities": {"A": 0.1, "B": 0.7, "C": 0.2}}),  # a row per record: one probability per class
    ('{"label": "A", "probabilities": {"A": 1.0}}\n', {"classes": ["A", "B"]}, {"label": "A", "probabilities": {"A": 1.0}}),
    ("1.0\n", {"classes": ["0", "1"], "layout": "label_first"}, {"label": "1", "probabilities": {}}),  # a numeric label
    ("0.25\n", {"classes": ["0", "1"], "layout": "label_first"},
     {"label": "0", "probabilities": {"0": 0.75, "1": 0.25}}),  # binary:logistic on label_first
])
def test_a_classifiers_output_line_is_read_as_the_layout_means_it(line, schema, expected):
    assert read_prediction(line, "multiclass_classification", ClassNumbers(schema)) == expected


@pytest.mark.parametrize("line", ["0.5,0.5\n", "2.0\n", '{"label": "CRATE"}\n', "[0.2, 0.8]\n"])
def test_an_output_line_that_names_none_of_the_classes_fails_naming_it(line):
    with pytest.raises(ValueError, match="names none of the classes BOX, TUBE, BAG: write the label"):
        read_prediction(line, "multiclass_classification", ClassNumbers({"classes": ["BOX", "TUBE", "BAG"]}))


def test_without_known_classes_a_label_is_taken_as_written():  # a version trained before its baseline kept schema.json
    assert read_prediction("BOX\n", "multiclass_classification", ClassNumbers(None)) == {"label": "BOX", "probabilities": {}}


def test_regression_output_is_a_number_in_json_or_csv():
    assert read_prediction("152.5\n", "regression") == {"value": 152.5}
    assert read_prediction('{"value": 3}\n', "regression") == {"value": 3.0}


@pytest.mark.parametrize(("layout", "content_type", "accept", "channel_type"), [
    ("header", "text/csv", "application/jsonlines", "text/csv"),
    ("label_first", "text/csv", "text/csv", "text/csv"),
    ("libsvm", "text/libsvm", "text/csv", "text/libsvm"),
])
def test_a_models_copy_serves_and_types_its_channels_as_its_layout(layout, content_type, accept, channel_type):
    copy = with_layout(TRAINING, layout)

    (transform,) = [s for s in copy["Steps"] if s["Type"] == "Transform"]
    assert (transform["Arguments"]["TransformInput"]["ContentType"], transform["Arguments"]["TransformOutput"]["Accept"]) == (
        content_type, accept)
    (train,) = [s for s in copy["Steps"] if s["Type"] == "Training"]
    types = {c["ChannelName"]: c.get("ContentType") for c in train["Arguments"]["InputDataConfig"]}
    assert types["train"] == types["validation"] == channel_type and types["schema"] != "text/libsvm"
    if layout == "header":
        assert copy == TRAINING  # today's models keep the copy they have
