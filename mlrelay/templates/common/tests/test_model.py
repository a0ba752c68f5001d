"""Runs model/ on data/sample.csv the way SageMaker does, with no AWS: `python -m pytest tests` in this folder.

Training runs the entry point as a script with the config's hyperparameters and the
SM_* variables of script mode; serving calls model_fn, input_fn, predict_fn and
output_fn on the held-out rows, as batch transform does.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

FOLDER = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((FOLDER / "config.yaml").read_text())
CODE = FOLDER / CONFIG["model"]["source_dir"]
ENTRY_POINT = CONFIG["model"].get("entry_point", "train.py")
TASK = CONFIG.get("task", "multiclass_classification")
LABEL, FEATURES = CONFIG["data"]["label_column"], CONFIG["data"]["feature_columns"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("opt-ml")
    table = pd.read_csv(FOLDER / "data" / "sample.csv")[[LABEL, *FEATURES]]
    validation = table.iloc[::5]
    classes = sorted(table[LABEL].astype(str).unique()) if TASK != "regression" else []
    schema = {"label": LABEL, "features": FEATURES, "task": TASK, "classes": classes}
    for channel, part in (("train", table.drop(validation.index)), ("validation", validation)):
        (root / channel).mkdir()
        part.to_csv(root / channel / f"{channel}.csv", index=False)
        (root / channel / "schema.json").write_text(json.dumps(schema))
    (root / "model").mkdir()
    hyperparameters = CONFIG["model"].get("hyperparameters", {})
    arguments = [part for name, value in sorted(hyperparameters.items())
                 for part in (f"-{name}" if len(name) == 1 else f"--{name}", str(value))]
    environment = {**os.environ, "SM_CHANNEL_TRAIN": str(root / "train"), "SM_CHANNEL_VALIDATION": str(root / "validation"),
                   "SM_MODEL_DIR": str(root / "model"), "SM_OUTPUT_DATA_DIR": str(root), "SM_HPS": json.dumps(hyperparameters)}
    subprocess.run([sys.executable, ENTRY_POINT, *arguments], cwd=CODE, env=environment, check=True)
    return root / "model", validation


def served(model_dir, rows):
    spec = importlib.util.spec_from_file_location("entry_point", CODE / ENTRY_POINT)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(CODE))  # the serving stack imports the entry point from the code folder
    spec.loader.exec_module(module)
    loaded = module.model_fn(str(model_dir))
    body = rows[FEATURES].to_csv(index=False, header=False)
    written = module.output_fn(module.predict_fn(module.input_fn(body, "text/csv"), loaded), "application/jsonlines")
    return [json.loads(line) for line in written.splitlines()]


def test_every_held_out_row_gets_one_prediction(trained):
    model_dir, validation = trained

    predictions = served(model_dir, validation)

    assert len(predictions) == len(validation)
    assert all(("value" in p) if TASK == "regression" else ("label" in p) for p in predictions)


def test_the_model_learns_the_sample_table(trained):
    model_dir, validation = trained

    predictions = served(model_dir, validation)

    truth = validation[LABEL]
    if TASK == "regression":
        predicted = pd.Series([p["value"] for p in predictions], index=truth.index)
        r2 = 1 - ((truth - predicted) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()
        assert r2 > 0.6, f"r2 {r2:.3f} on the held-out rows"
    else:
        accuracy = (pd.Series([p["label"] for p in predictions], index=truth.index) == truth.astype(str)).mean()
        assert accuracy > 0.8, f"accuracy {accuracy:.3f} on the held-out rows"
