"""What a stage's runs made outside its stack, which `mlrelay destroy` deletes with it: the model roles and the
models' pipeline copies (chalicelib/aws/model_roles.py, chalicelib/shared/model_pipelines.py).

The roles go before the stack: CloudFormation cannot delete the managed policy they attach. The copies go first,
as they name the roles."""

from __future__ import annotations

from typing import Any

from chalicelib.shared.naming import model_role_path

BASE_PIPELINES = ("training", "inference", "quality")  # the stack's own: CloudFormation deletes them


def pipeline_copies(sagemaker: Any, stage: str) -> list[str]:
    prefix = f"mlrelay-{stage}-"
    names = [summary["PipelineName"] for page in sagemaker.get_paginator("list_pipelines").paginate(PipelineNamePrefix=prefix)
             for summary in page["PipelineSummaries"]]
    # a copy is <base>-<digest>; the bases themselves have no suffix
    return sorted(name for name in names if any(name.startswith(f"{prefix}{base}-") for base in BASE_PIPELINES))


def model_roles(iam: Any, stage: str) -> list[str]:
    return sorted(role["RoleName"] for page in iam.get_paginator("list_roles").paginate(PathPrefix=model_role_path(stage))
                  for role in page["Roles"])


def delete_pipeline_copies(sagemaker: Any, names: list[str]) -> None:
    for name in names:
        sagemaker.delete_pipeline(PipelineName=name)


def delete_model_roles(iam: Any, names: list[str]) -> None:
    """Each role with what it holds: IAM deletes a role only once its policies are detached or deleted."""
    for name in names:
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
