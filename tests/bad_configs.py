"""Kinds of bad config, each with the field path and words its problem must name.

Shared by the parser's unit tests and the trigger's functional tests, so the
same cases are proven both in isolation and through S3 on the emulator.
"""

from __future__ import annotations

import json

from tests.conftest import valid_config


def _json(**overrides: object) -> bytes:
    return json.dumps(valid_config(**overrides)).encode()


def _data(**fields: object) -> bytes:
    document = valid_config()
    document["data"] = {**document["data"], **fields}
    return json.dumps(document).encode()


def _without(field: str) -> bytes:
    document = valid_config()
    del document[field]
    return json.dumps(document).encode()


# name -> (file suffix, content, expected path, words expected in the message)
BAD_CONFIGS: dict[str, tuple[str, bytes, str, str]] = {
    "bad-json": (".json", b'{"schema_version": 1, "model_name": ', "", "invalid JSON at line 1"),
    "bad-yaml": (".yaml", b"schema_version: 1\nmodel_name: [unclosed\n", "", "invalid YAML at line"),
    "missing-field": (".json", _without("model_name"), "model_name", "required field is missing"),
    "unknown-field": (".json", _json(colour="red"), "colour", "unknown field"),
    "wrong-type": (".json", _json(training={"instance_count": "two"}), "training.instance_count", "valid integer"),
    "unsafe-model-name": (".json", _json(model_name="../../etc/passwd"), "model_name", "lowercase letters"),
    "bad-s3-uri": (".json", _data(uri="https://example.com/table.csv"), "data.uri", "S3 URI"),
    "ratio-out-of-range": (".json", _data(validation_split=0.9), "data.validation_split", "less than or equal to 0.5"),
    "unknown-model-type": (".json", _json(model={"type": "xgboost.magic"}), "model.type", "unknown model type"),
    "empty-file": (".json", b"", "", "file is empty"),
    "oversized-file": (".json", b'{"padding": "' + b"x" * 70_000 + b'"}', "", "at most 65,536 bytes"),
    "not-a-mapping": (".yaml", b"- just\n- a list\n", "", "must be a mapping"),
    "bad-hyperparameter": (
        ".json",
        _json(model={"type": "sklearn.random_forest", "hyperparameters": {"max_depth": 0}}),
        "model.hyperparameters.max_depth",
        "greater than or equal to 1",
    ),
    "label-among-features": (".json", _data(feature_columns=["package_type", "weight_g"]), "data", "also listed"),
    "wrong-suffix": (".txt", b"schema_version: 1\n", "", "unsupported file type"),
    # Fields accepted once and then ignored are refused, saying what works instead.
    "parquet-table": (".json", _data(format="parquet"), "data.format", "only csv is supported"),
    "renamed-field": (".json", _json(approval={"primary_metric": "macro_f1"}), "approval.primary_metric", "renamed: use metric"),
    "metric-of-another-task": (".json", _json(task="regression", approval={"metric": "macro_f1"}), "approval.metric",
                               "not a regression metric"),
    "classifier-for-regression": (".json", _json(task="regression", model={"type": "sklearn.logistic_regression"}, approval={}),
                                  "model.type", "is a classifier"),
    "sklearn-on-two-instances": (".json", _json(training={"instance_count": 2}), "training.instance_count", "single instance"),
    "custom-image-missing": (".json", _json(model={"framework": "custom", "code_uri": "s3://code-bucket/c/sourcedir.tar.gz"}),
                             "model", "needs image_uri"),
    "folder-and-bundle": (".json", _json(model={"framework": "xgboost", "source_dir": "model",
                                                "code_uri": "s3://code-bucket/c/sourcedir.tar.gz"}), "model", "exactly one of"),
    "unknown-framework-version": (".json", _json(model={"framework": "sklearn", "framework_version": "9.9-9",
                                                        "code_uri": "s3://code-bucket/c/sourcedir.tar.gz"}),
                                  "model.framework_version", "the known versions are 1.2-1"),
    "monitoring-unknown-feature": (".json", _json(monitoring={"features": {"colour": {"method": "psi"}}}),
                                   "monitoring.features.colour", "not one of data.feature_columns"),
    "monitoring-unknown-action": (".json", _json(monitoring={"on_violation": "ignore"}), "monitoring.on_violation", "'warn' or 'block'"),
    "unknown-layout": (".json", _data(layout="parquet"), "data.layout", "'header', 'label_first' or 'libsvm'"),
    "layout-of-a-builtin-model": (".json", _data(layout="label_first"), "data.layout", "a built-in model reads the header layout"),
    "channel-named-train": (".json", _data(validation_channel="train"), "data.validation_channel", "train is the name of another channel"),
    "channel-named-schema-in-capitals": (".json", _data(validation_channel="SCHEMA"), "data.validation_channel",
                                         "SCHEMA is the name of another channel"),
    "channel-name-with-a-space": (".json", _data(validation_channel="held out"), "data.validation_channel", "SageMaker channel name"),
}
