"""Reading infra/resources.json: dependency order and CloudFormation intrinsics.

Covers the intrinsics the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
and Fn::If with the Conditions section's Fn::Equals, Fn::Not, Fn::And, Fn::Or
and Condition, AWS::NoValue dropping the key or item it stands for); anything
else is refused with its name, so the template cannot quietly use a function
the embedded stack would resolve wrongly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class TemplateError(ValueError):
    """The template uses something the embedded stack cannot resolve."""


@dataclass(frozen=True)
class Template:
    document: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path) -> Template:
        try:
            return cls(json.loads(path.read_text()), path)
        except (OSError, json.JSONDecodeError) as err:
            raise TemplateError(f"cannot read the infrastructure template {path}: {err}") from err

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document.get("Resources", {})

    def declared(self) -> dict[str, dict[str, Any]]:
        """Resources with a Type: the ones the template creates itself."""
        return {name: spec for name, spec in self.resources.items() if "Type" in spec}

    def merge_only(self) -> dict[str, dict[str, Any]]:
        """Entries without a Type add properties to the resources `chalice package` generates."""
        return {name: spec for name, spec in self.resources.items() if "Type" not in spec}

    def parameter_defaults(self) -> dict[str, str]:
        return {
            name: spec["Default"] for name, spec in self.document.get("Parameters", {}).items() if "Default" in spec
        }

    def creation_order(self, external: set[str]) -> list[str]:
        """Declared resources ordered so that every reference is created first."""
        declared = self.declared()
        graph = {
            name: {ref for ref in references(spec) if ref in declared and ref != name}
            for name, spec in declared.items()
        }
        unknown = {
            ref for spec in self.resources.values() for ref in references(spec)
        } - set(declared) - external - set(self.document.get("Parameters", {}))
        unknown = {ref for ref in unknown if not ref.startswith("AWS::")}
        if unknown:
            raise TemplateError(f"the template refers to undeclared resources: {', '.join(sorted(unknown))}")
        try:
            return list(TopologicalSorter(graph).static_order())
        except CycleError as err:
            raise TemplateError(f"the template's references form a cycle: {err.args[1]}") from err


def references(node: Any) -> set[str]:
    """Logical ids that `node` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = set(value[1]) if isinstance(value, list) else set()
                found |= {v.split(".")[0] for v in _SUB_VARIABLE.findall(text)} - local
                if isinstance(value, list):
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


# (logical id) -> Ref value; (logical id, attribute) -> GetAtt value; (condition name) -> its value
RefLookup = Callable[[str], str]
AttLookup = Callable[[str, str], str]
ConditionLookup = Callable[[str], bool]
_NO_VALUE = object()  # Ref AWS::NoValue: the key or list item it stands for is left out


def resolve(
    node: Any, ref: RefLookup, get_att: AttLookup, condition: ConditionLookup | None = None,
    mappings: dict[str, Any] | None = None,
) -> Any:
    """Replace intrinsic functions in `node` by their values (`mappings`: the template's Mappings section)."""
    resolved = _Resolver(ref, get_att, condition, mappings or {}).resolve(node)
    return None if resolved is _NO_VALUE else resolved


def evaluate_condition(conditions: dict[str, Any], name: str, ref: RefLookup) -> bool:
    """The value of the Conditions section's `name`."""
    if name not in conditions:
        raise TemplateError(f"the template uses condition {name!r}, which its Conditions section does not declare")

    def value(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, argument), = node.items()
            if key == "Condition":
                return evaluate_condition(conditions, argument, ref)
            if key == "Fn::Equals":
                left, right = (value(a) for a in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not value(argument[0])
            if key == "Fn::And":
                return all(value(a) for a in argument)
            if key == "Fn::Or":
                return any(value(a) for a in argument)
            if key == "Ref":
                return ref(argument)
            if key == "Fn::Join":  # how a condition tests a CommaDelimitedList for emptiness
                separator, parts = argument
                items = value(parts)
                return separator.join(str(i) for i in (items if isinstance(items, list) else [items]))
            raise TemplateError(f"condition {name!r}: the embedded stack does not evaluate {key}")
        return node

    return bool(value(conditions[name]))


@dataclass(frozen=True)
class _Resolver:
    ref: RefLookup
    get_att: AttLookup
    condition: ConditionLookup | None
    mappings: dict[str, Any]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = (self.resolve(item) for item in node)
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return _NO_VALUE if value == "AWS::NoValue" else self.ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._substitute(value)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(p) for p in self.resolve(parts))
            if key == "Fn::If":
                if self.condition is None:
                    raise TemplateError("Fn::If outside a template with Conditions")
                name, when_true, when_false = value
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::FindInMap":
                mapping, top, second = (self.resolve(part) for part in value)
                try:
                    return self.mappings[mapping][top][second]
                except KeyError as err:
                    raise TemplateError(f"Fn::FindInMap: the Mappings section has no {mapping}.{top}.{second}") from err
            if key.startswith("Fn::"):
                raise TemplateError(
                    f"the embedded stack does not resolve {key}; use Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If or Fn::FindInMap"
                )
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _substitute(self, value: Any) -> str:
        text, local = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        # ${!Literal} is CloudFormation's escape for a literal ${Literal} (an IAM policy variable, say)
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")
