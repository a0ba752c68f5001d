"""IAM statements in a packaged template that use wildcards, and the ones allowed to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Statements allowed a wildcard, and why: each is one the Service Authorization Reference forces (its actions table
# lists no resource type for these actions). Anything else with "*" fails the build (tests) and the benchmark.
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"
WILDCARD_EXCEPTIONS = {
    "RedshiftDataApiReadsOwnStatements": "redshift-data:DescribeStatement and GetStatementResult have no resource type "
    f"({SAR}/list_amazonredshiftdataapi.html); limited to the role's own statements by redshift-data:statement-owner-iam-userid",
    "RedshiftDataApiDescribesTheLambdaStepsStatements": "redshift-data:DescribeStatement has no resource type "
    f"({SAR}/list_amazonredshiftdataapi.html); the workflow polls statements its Lambda step submitted under another role, "
    "so the statement-owner condition would refuse them",
    "EcrAuthorizationTokenNeedsStar": f"ecr:GetAuthorizationToken has no resource type ({SAR}/list_amazonelasticcontainerregistry.html)",
    "AnswerWaitingRunsNeedsStar": "states:SendTaskSuccess and SendTaskFailure have no resource type "
    f"({SAR}/list_awsstepfunctions.html): a statement naming the state machines never matches them",
    "JobMetricsNeedStar": "cloudwatch:PutMetricData has no resource type "
    f"({SAR}/list_amazoncloudwatch.html); limited to SageMaker's namespaces by cloudwatch:namespace",
    "ListLineageNeedsStar": f"sagemaker:ListArtifacts has no resource type ({SAR}/list_amazonsagemaker.html); a version's "
    "registration finds an artifact by its source before it makes one, so a retry adds nothing twice",
    "LogDeliveryNeedsStar": "logs:CreateLogDelivery and the other log-delivery actions Step Functions logging needs have no "
    f"resource type ({SAR}/list_amazoncloudwatchlogs.html; the Step Functions developer guide lists them)",
}


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource, statement) for every inline policy statement of roles and state machines, and of managed policies."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        managed = resource.get("Type") == "AWS::IAM::ManagedPolicy"
        policies = [properties] if managed else properties.get("Policies", [])
        for policy in policies if isinstance(policies, list) else []:
            # a policy or statement present under a condition (Fn::If [cond, it, AWS::NoValue]) is checked as written
            for chosen in _branches(policy):
                document = chosen.get("PolicyDocument", chosen)
                for statement in document.get("Statement", []):
                    for branch in _branches(statement):
                        if "Action" in branch or "NotAction" in branch:
                            yield name, branch


def _branches(node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    if "Fn::If" in node:
        return [branch for branch in node["Fn::If"][1:] if isinstance(branch, dict) and "Ref" not in branch]
    return [node]


def wildcards(statement: dict[str, Any]) -> list[str]:
    """A whole-service or any-action Action, or a Resource of "*"."""
    actions = statement.get("Action", [])
    found = [a for a in ([actions] if isinstance(actions, str) else actions) if a == "*" or a.endswith(":*")]
    resources = statement.get("Resource") or []
    if resources == "*" or (isinstance(resources, list) and "*" in resources):
        found.append('Resource "*"')
    return found


def unexcused(template: dict[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    return [
        (name, statement.get("Sid"), wildcards(statement))
        for name, statement in statements(template)
        if wildcards(statement) and statement.get("Sid") not in WILDCARD_EXCEPTIONS
    ]
