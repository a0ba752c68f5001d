"""The committed pipeline definition is exactly what the SageMaker SDK builds now.

It needs the SDK (requirements-pipelines.txt, installed by `make test`). If this
fails after a change to the builder or the step scripts, run
`make pipelines` and commit pipelines/training.pipeline.json.
"""

import json

from mlrelay.pipeline_builder.build import build_definitions
from mlrelay.pipeline_builder.code import code_bundle
from tests.conftest import ROOT

COMMITTED = ROOT / "pipelines" / "training.pipeline.json"


def test_the_committed_definition_matches_a_fresh_build(tmp_path):
    written = build_definitions(tmp_path)

    assert written["training"].read_text() == COMMITTED.read_text()


def test_the_definition_names_the_current_step_scripts():
    assert f"s3://${{ArtifactBucket}}/{code_bundle().prefix}/split.py" in COMMITTED.read_text()


def test_the_definition_has_the_expected_steps_with_caching_and_retries():
    definition = json.loads(COMMITTED.read_text())

    steps = {s["Name"]: s for s in definition["Steps"]}
    assert list(steps) == ["Split", "Train", "CreateModel-CreateModel", "TransformValidation", "Evaluate"]
    for name in ("Split", "Train", "TransformValidation", "Evaluate"):
        assert steps[name]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
        assert {e for p in steps[name]["RetryPolicies"] for e in p["ExceptionType"]} >= {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"}
    assert steps["Evaluate"]["PropertyFiles"][0]["FilePath"] == "metrics.json"
