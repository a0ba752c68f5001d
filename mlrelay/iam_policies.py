"""The packaged template's IAM policies with intrinsics resolved, as AWS will read them, for parliament.

`python -m mlrelay.iam_policies build/package/prod/sam.json infra/parameters/prod.json` prints one JSON
object: policy name -> document. Resources the template creates get ARNs of their real shape (account
123456789012, us-east-1), so parliament can check every resource against its action's resource types.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mlrelay import arns
from mlrelay.local.template import evaluate_condition, resolve

ACCOUNT, REGION = "123456789012", "us-east-1"


def resolved_policies(template_path: Path, parameters: dict[str, str]) -> dict[str, dict[str, Any]]:
    document = json.loads(template_path.read_text())
    resources = document["Resources"]
    values = {**{k: str(v.get("Default", "")) for k, v in document.get("Parameters", {}).items()}, **parameters}
    lists = {k for k, v in document.get("Parameters", {}).items() if v.get("Type") == "CommaDelimitedList"}
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws", "AWS::StackName": "mlrelay-prod"}

    def name_of(logical_id: str) -> str:
        return f"mlrelay-prod-{logical_id}"

    def arn_of(logical_id: str) -> str:
        name = name_of(logical_id)
        return (arns.arn_of(resources[logical_id]["Type"], name, account=ACCOUNT, region=REGION)
                or f"arn:aws:unknown:{REGION}:{ACCOUNT}:{name}")

    def ref(name: str) -> Any:
        if name in pseudo:
            return pseudo[name]
        if name in values:
            return [v for v in values[name].split(",") if v] if name in lists else values[name]
        return arn_of(name) if resources[name]["Type"] in arns.REF_IS_ARN else name_of(name)

    def get_att(logical_id: str, attribute: str) -> str:
        return name_of(logical_id) if attribute.endswith("Name") else arn_of(logical_id)

    conditions = document.get("Conditions", {})
    policies: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        managed = resource.get("Type") == "AWS::IAM::ManagedPolicy"
        listed = [{"PolicyName": properties.get("ManagedPolicyName"), **properties}] if managed else properties.get("Policies", []) or []
        resolved_list = resolve(listed, ref, get_att, lambda name: evaluate_condition(conditions, name, ref),
                                document.get("Mappings", {})) if isinstance(listed, list) else []
        for index, policy in enumerate(resolved_list):
            if not isinstance(policy, dict) or not ({"PolicyDocument", "Statement"} & set(policy)):
                continue  # a SAM policy template: not a document
            policies[f"{logical_id}/{policy.get('PolicyName', index)}"] = {"Version": "2012-10-17", **policy.get("PolicyDocument", policy)}
    return policies


def main(argv: list[str]) -> int:
    template, parameter_file = Path(argv[0]), Path(argv[1])
    parameters = {k: str(v) for k, v in json.loads(parameter_file.read_text()).items()}
    json.dump(resolved_policies(template, parameters), sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
