"""A registered version is the exact bytes of its model artifact: inference refuses an artifact written over."""

import pytest

from chalicelib.aws.model_versions import ModelVersions

pytestmark = pytest.mark.functional
MODEL = "pinned-artifact"


def test_an_artifact_written_over_after_registration_fails_inference_with_an_alert_naming_it(aws):
    aws.drop_training_config(MODEL)
    aws.stack.runtime.wait_idle()
    (trained,) = aws.runs(f"train-{MODEL}-", timeout=180)
    assert trained["status"] == "SUCCEEDED"
    version = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version(MODEL, 1)
    bucket, key = version.artifact["uri"].removeprefix("s3://").split("/", 1)
    head = aws.s3.head_object(Bucket=bucket, Key=key)
    assert version.artifact["version_id"] == head["VersionId"] and len(version.artifact["sha256"]) == 64

    # someone who may write the model's runs/<model>/ (its own jobs, say) replaces the approved artifact
    aws.s3.put_object(Bucket=bucket, Key=key, Body=b"not this model")
    run = aws.monthly_run(MODEL, "2031-05")

    execution = aws.sfn.describe_execution(executionArn=run["executionArn"])
    assert (run["status"], execution["error"]) == ("FAILED", "ArtifactChangedError")
    assert f"model {MODEL} v1's artifact s3://{bucket}/{key} is not the one it was registered with" in execution["cause"]
    assert aws.run_record(run["name"])["failed_state"] == "PrepareInference"
    (post,) = aws.slack_posts(run["name"])
    assert "ArtifactChangedError" in str(post) and key in str(post)
