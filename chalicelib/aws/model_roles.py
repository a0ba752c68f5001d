"""One IAM role per model, which its pipeline jobs run with: they may write only under runs/<model>/.

SageMaker assumes a job's role itself and takes no session policy, so a
narrower role per job is the only way to keep one model's code from writing
another model's outputs. Each role is made at the model's first run, with the
stack's managed policy `mlrelay-<stage>-model-jobs` both attached and as its
permissions boundary; the policy limits writes to `runs/${aws:PrincipalTag/
mlrelay_model}/*`, so the role's one tag says which model it is. The step
functions may make roles only under the stage's model path, only with that
boundary and that policy (infra/resources.json), so no role they make can do
more than a model's jobs may.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, translated
from chalicelib.shared.naming import model_role_name, model_role_path

MODEL_TAG = "mlrelay_model"  # the model whose runs/<model>/ the role may write
ROLE_TAG = "mlrelay_role"  # the role's own name: the only role it may pass (to the jobs it starts)
SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class ModelRoleError(RuntimeError):
    """A role under the models' path exists but is not what mlrelay makes for this model."""


class ModelRoles:
    def __init__(self, stage: str, policy_arn: str, iam_client: Any = None):
        self._client = iam_client or client("iam")
        self._stage, self._policy_arn = stage, policy_arn

    def ensure(self, model_name: str) -> str:
        """The model's role ARN, made on its first run (idempotent: a role that exists is checked and kept)."""
        name = model_role_name(self._stage, model_name)
        try:
            with translated(f"cannot create the role {name} for model {model_name}"):
                role = self._client.create_role(
                    RoleName=name, Path=model_role_path(self._stage), AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST),
                    PermissionsBoundary=self._policy_arn, Description=f"mlrelay: the pipeline jobs of model {model_name}"[:1000],
                    Tags=[{"Key": MODEL_TAG, "Value": model_name}, {"Key": ROLE_TAG, "Value": name}],
                )["Role"]
        except AwsError as err:
            if err.code != "EntityAlreadyExists":
                raise
            role = self._existing(name, model_name)
        with translated(f"cannot attach {self._policy_arn} to the role {name}"):
            self._client.attach_role_policy(RoleName=name, PolicyArn=self._policy_arn)  # a no-op when attached
        return str(role["Arn"])

    def _existing(self, name: str, model_name: str) -> dict[str, Any]:
        with translated(f"cannot read the role {name}"):
            role: dict[str, Any] = self._client.get_role(RoleName=name)["Role"]
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if role.get("Path") != model_role_path(self._stage) or tags.get(MODEL_TAG) != model_name or boundary != self._policy_arn:
            raise ModelRoleError(
                f"the role {name} exists but is not model {model_name}'s as mlrelay makes it (path {role.get('Path')}, "
                f"tag {MODEL_TAG}={tags.get(MODEL_TAG)!r}, boundary {boundary}): delete it or rename the model"
            )
        return role
