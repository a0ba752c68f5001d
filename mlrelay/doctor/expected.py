"""What a stage's stack should hold, read from the committed template (infra/resources.json) and the stage's
parameters, with every name and ARN resolved as CloudFormation resolves them.

Every stage-owned name is written in the template (`mlrelay-${Stage}-...`), so the same reading serves the
embedded stack and a deployed one: `mlrelay doctor` compares it with what the stack's services answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlrelay import arns
from mlrelay.cli.connection import FUNCTIONS
from mlrelay.local.template import Template, TemplateError, evaluate_condition, resolve
from mlrelay.packaging import PROJECT_ROOT

FUNCTION_TYPE = "AWS::Serverless::Function"  # Chalice's functions: in the template as merge fragments only


@dataclass(frozen=True)
class Rule:
    name: str
    enabled: bool
    targets: frozenset[str]  # target ARNs


@dataclass(frozen=True)
class Pipeline:
    name: str
    definition_file: str
    definition: dict[str, Any]  # with the bucket and role substituted; the role as the stack names it


@dataclass
class ExpectedStack:
    stage: str
    stack_name: str
    bucket: str
    runs_table: str
    functions: list[str]
    rules: list[Rule]
    pipelines: list[Pipeline]
    parameters: dict[str, str] = field(default_factory=dict)


def expected_stack(
    stage: str, account: str, region: str, partition: str = "aws", project_root: Path = PROJECT_ROOT,
) -> ExpectedStack:
    template = Template.load(project_root / "infra" / "resources.json")
    parameters = _stage_parameters(template, stage, project_root)
    names = _Names(template, stage, account, region, partition, parameters)
    declared = template.declared()
    rules = [
        Rule(
            names.resolve(spec["Properties"]["Name"]),
            spec["Properties"].get("State", "ENABLED") == "ENABLED",
            frozenset(names.resolve(target["Arn"]) for target in spec["Properties"]["Targets"]),
        )
        for spec in declared.values() if spec["Type"] == "AWS::Events::Rule" and names.present(spec)
    ]
    pipelines = []
    for spec in declared.values():
        if spec["Type"] == "AWS::SageMaker::Pipeline":
            metadata = spec["Metadata"]
            body = (project_root / metadata["mlrelay:DefinitionFile"]).read_text()
            text = names.resolve({"Fn::Sub": [body, metadata.get("mlrelay:DefinitionSubstitutions", {})]})
            pipelines.append(Pipeline(names.resolve(spec["Properties"]["PipelineName"]), metadata["mlrelay:DefinitionFile"],
                                      json.loads(text)))
    return ExpectedStack(
        stage=stage, stack_name=f"mlrelay-{stage}", bucket=names.ref("ConfigBucket"), runs_table=names.ref("RunsTable"),
        functions=[f"mlrelay-{stage}-{function}" for function in FUNCTIONS], rules=rules, pipelines=pipelines,
        parameters=parameters,
    )


def _stage_parameters(template: Template, stage: str, project_root: Path) -> dict[str, str]:
    path = project_root / "infra" / "parameters" / f"{stage}.json"
    if not path.exists():
        raise TemplateError(f"{path} is missing: the stage's parameters say what its stack should hold")
    return {**template.parameter_defaults(), "Stage": stage, **{k: str(v) for k, v in json.loads(path.read_text()).items()}}


class _Names:
    """Ref and Fn::GetAtt as CloudFormation answers them, for the resource types the checks name."""

    def __init__(self, template: Template, stage: str, account: str, region: str, partition: str, parameters: dict[str, str]):
        self._declared = template.declared()
        self._conditions = template.document.get("Conditions", {})
        self._mappings = template.document.get("Mappings", {})
        self._values = {**parameters, "AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": partition,
                        "AWS::StackName": f"mlrelay-{stage}", "AWS::URLSuffix": "amazonaws.com"}
        self._functions = {_logical_id(function): f"mlrelay-{stage}-{function}" for function in FUNCTIONS}
        self._account, self._region, self._partition = account, region, partition

    def resolve(self, node: Any) -> Any:
        return resolve(node, self.ref, self.get_att, self._condition, self._mappings)

    def present(self, spec: dict[str, Any]) -> bool:
        return "Condition" not in spec or self._condition(spec["Condition"])

    def ref(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        if name in self._functions:
            return self._functions[name]
        kind, physical = self._named(name)
        return self.get_att(name, "Arn") if kind in arns.REF_IS_ARN else physical

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute != "Arn":
            raise TemplateError(f"mlrelay doctor does not resolve {logical_id}.{attribute}")
        kind, name = (FUNCTION_TYPE, self._functions[logical_id]) if logical_id in self._functions else self._named(logical_id)
        arn = arns.arn_of(kind, name, account=self._account, region=self._region, partition=self._partition)
        if arn is None:
            raise TemplateError(f"mlrelay doctor does not resolve the ARN of {logical_id} ({kind})")
        return arn

    def _named(self, logical_id: str) -> tuple[str, str]:
        spec = self._declared.get(logical_id)
        if spec is None or spec["Type"] not in arns.NAME_PROPERTIES:
            raise TemplateError(f"mlrelay doctor cannot name {logical_id}: not a named resource of the template")
        return spec["Type"], str(self.resolve(spec["Properties"][arns.NAME_PROPERTIES[spec["Type"]]]))

    def _condition(self, name: str) -> bool:
        return evaluate_condition(self._conditions, name, self.ref)


def _logical_id(function: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return str(to_cfn_resource_name(function))
