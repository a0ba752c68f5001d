"""One model's code cannot write another model's outputs: each model's jobs run as a role of its own, which may
write only under runs/<model>/ (chalicelib/aws/model_roles.py)."""

import json
import shutil

import pytest

from chalicelib.aws.model_versions import ModelVersions
from tests.conftest import ROOT

pytestmark = pytest.mark.functional
CODE = ROOT / "tests" / "functional" / "code"
VICTIM, HOSTILE = "isolated-victim", "isolated-hostile"


@pytest.mark.access_denied(HOSTILE, "s3:PutObject")
def test_a_models_code_writes_its_own_prefix_and_is_refused_another_models_artifact(aws, tmp_path):
    aws.drop_training_config(VICTIM)
    aws.stack.runtime.wait_idle()
    (trained,) = aws.runs(f"train-{VICTIM}-", timeout=180)
    assert trained["status"] == "SUCCEEDED"
    artifact = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).version(VICTIM, 1).artifact
    bucket, key = artifact["uri"].removeprefix("s3://").split("/", 1)
    assert key.startswith(f"runs/{VICTIM}/")
    own = f"runs/{HOSTILE}/probe.txt"

    shutil.copytree(CODE / "overwriting", tmp_path / "overwriting")
    aws.drop_code_config(tmp_path / "overwriting", HOSTILE,
                         model={"hyperparameters": {"own": f"s3://{bucket}/{own}", "target": artifact["uri"]}})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{HOSTILE}-", timeout=240)

    # its own prefix took the write; the other model's artifact is the registered version, alone
    assert aws.s3.get_object(Bucket=bucket, Key=own)["Body"].read() == b"this model's own output"
    versions = aws.s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert [v["VersionId"] for v in versions] == [artifact["version_id"]]
    # the run failed at Train with IAM's refusal, naming the role and the key, in the run and the alert
    cause = aws.sfn.describe_execution(executionArn=run["executionArn"])["cause"]
    refusal = (f"assumed-role/mlrelay-dev-{HOSTILE}/SageMaker is not authorized to perform: s3:PutObject on resource: "
               f"arn:aws:s3:::{bucket}/{key}")
    assert run["status"] == "FAILED" and "step Train: AlgorithmError" in cause and refusal in cause, cause
    (post,) = aws.slack_posts(run["name"])
    assert "AccessDenied" in json.dumps(post)
    # each model's role: under the stage's model path, tagged with its model, its policy as its boundary
    roles = {r["RoleName"]: r for r in aws.stack.client("iam").list_roles(PathPrefix="/mlrelay-dev-models/")["Roles"]}
    assert {f"mlrelay-dev-{VICTIM}", f"mlrelay-dev-{HOSTILE}"} <= set(roles)
    hostile = aws.stack.client("iam").get_role(RoleName=f"mlrelay-dev-{HOSTILE}")["Role"]
    assert {t["Key"]: t["Value"] for t in hostile["Tags"]}["mlrelay_model"] == HOSTILE
    assert hostile["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/mlrelay-dev-model-jobs")
