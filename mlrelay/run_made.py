"""What a stage's runs made outside its stack, which `mlrelay destroy` deletes with it: the model roles, the
models' pipeline copies and the endpoints deploy runs made (chalicelib/aws/model_roles.py,
chalicelib/shared/model_pipelines.py, chalicelib/training/deploy.py).

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


def serving_resources(sagemaker: Any, stage: str) -> dict[str, list[str]]:
    """The endpoints, endpoint configs and models the deploy runs made (chalicelib/training/deploy.py): an endpoint
    bills by the hour until it is deleted, stack or no stack."""
    prefix = f"mlrelay-{stage}-"
    listed = {
        "endpoints": ("list_endpoints", "Endpoints", "EndpointName"),
        "endpoint_configs": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
        "models": ("list_models", "Models", "ModelName"),
    }
    return {kind: sorted(item[name] for page in sagemaker.get_paginator(operation).paginate(NameContains=prefix)
                         for item in page[key] if item[name].startswith(prefix))
            for kind, (operation, key, name) in listed.items()}


def rollback_alarms(cloudwatch: Any, stage: str) -> list[str]:
    """Each endpoint's rollback alarm, also of an endpoint deleted since (chalicelib/training/deploy_plan.py names them)."""
    return sorted(alarm["AlarmName"] for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=f"mlrelay-{stage}-", AlarmTypes=["MetricAlarm"]) for alarm in page["MetricAlarms"]
        if alarm["AlarmName"].endswith("-model-errors"))


def delete_serving_resources(sagemaker: Any, cloudwatch: Any, found: dict[str, list[str]], alarms: list[str]) -> None:
    for name in found["endpoints"]:
        sagemaker.delete_endpoint(EndpointName=name)
    for name in found["endpoint_configs"]:
        sagemaker.delete_endpoint_config(EndpointConfigName=name)
    for name in found["models"]:
        sagemaker.delete_model(ModelName=name)
    for start in range(0, len(alarms), 100):  # DeleteAlarms takes at most 100 names
        cloudwatch.delete_alarms(AlarmNames=alarms[start:start + 100])
