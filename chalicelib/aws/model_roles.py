"""One IAM role per model, which its pipeline jobs run with: they may write only under runs/<model>/.

SageMaker assumes a job's role itself and takes no session policy, so a
narrower role per job is the only way to keep one model's code from writing
another model's outputs. Each role is made at the model's first run, with the
stack's managed policy `mlrelay-<stage>-model-jobs` both attached and as its
permissions boundary; the policy limits writes to `runs/${aws:PrincipalTag/
mlrelay_model}/*`, so the role's tag says which model it is. The training and
inference steps' Lambda functions may make roles only under the stage's model
path, only with that boundary and that policy, and tag them only as they are
made (infra/resources.json): no role they make can do more than a model's jobs
may, nor take another model's tag.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import NOT_FOUND_CODES, AwsError, NotFoundError, translated
from chalicelib.shared.naming import model_role_name, model_role_path
from chalicelib.shared.observability import logger

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
        """The model's role ARN, made on its first run; a role that exists is checked and kept."""
        name = model_role_name(self._stage, model_name)
        role = self._held(name)
        if role is None:
            role = self._create(name, model_name)
        self._check(role, model_name)
        with translated(f"cannot attach {self._policy_arn} to the role {name}"):
            self._client.attach_role_policy(RoleName=name, PolicyArn=self._policy_arn)  # a no-op when attached
        return str(role["Arn"])

    def _held(self, name: str) -> dict[str, Any] | None:
        try:
            with translated(f"cannot read the role {name}", NOT_FOUND_CODES | {"NoSuchEntity"}):
                return dict(self._client.get_role(RoleName=name)["Role"])
        except NotFoundError:
            return None

    def _create(self, name: str, model_name: str) -> dict[str, Any]:
        try:
            with translated(f"cannot create the role {name} for model {model_name}"):
                return dict(self._client.create_role(
                    RoleName=name, Path=model_role_path(self._stage), AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST),
                    PermissionsBoundary=self._policy_arn, Description=f"mlrelay: the pipeline jobs of model {model_name}"[:1000],
                    Tags=[{"Key": MODEL_TAG, "Value": model_name}, {"Key": ROLE_TAG, "Value": name}],
                )["Role"])
        except AwsError as err:
            # another run of the model made it meanwhile (its tags then make our tagging a change, which is refused)
            made = self._held(name)
            if made is None:
                raise
            logger.info("another run made the model's role first", extra={"role": name, "error": err.code})
            return made

    def _check(self, role: dict[str, Any], model_name: str) -> None:
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if role.get("Path") != model_role_path(self._stage) or tags.get(MODEL_TAG) != model_name or boundary != self._policy_arn:
            raise ModelRoleError(
                f"the role {role.get('RoleName')} exists but is not model {model_name}'s as mlrelay makes it (path "
                f"{role.get('Path')}, tag {MODEL_TAG}={tags.get(MODEL_TAG)!r}, boundary {boundary}): delete it or rename the model"
            )
