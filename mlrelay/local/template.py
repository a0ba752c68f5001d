"""Reading infra/resources.json: dependency order and CloudFormation intrinsics.

Covers the intrinsics the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::Join);
anything else is refused with its name, so the template cannot quietly use a
function the embedded stack would resolve wrongly.
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


# (logical id) -> Ref value; (logical id, attribute) -> GetAtt value
RefLookup = Callable[[str], str]
AttLookup = Callable[[str, str], str]


def resolve(node: Any, ref: RefLookup, get_att: AttLookup) -> Any:
    """Replace intrinsic functions in `node` by their values."""
    if isinstance(node, list):
        return [resolve(item, ref, get_att) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            return ref(value)
        if key == "Fn::GetAtt":
            logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
            return get_att(logical_id, attribute)
        if key == "Fn::Sub":
            return _substitute(value, ref, get_att)
        if key == "Fn::Join":
            separator, parts = value
            return separator.join(str(p) for p in resolve(parts, ref, get_att))
        if key.startswith("Fn::"):
            raise TemplateError(f"the embedded stack does not resolve {key}; use Ref, Fn::GetAtt, Fn::Sub or Fn::Join")
    return {key: resolve(value, ref, get_att) for key, value in node.items()}


def _substitute(value: Any, ref: RefLookup, get_att: AttLookup) -> str:
    text, local = (value, {}) if isinstance(value, str) else (value[0], resolve(value[1], ref, get_att))

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in local:
            return str(local[name])
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return get_att(logical_id, attribute)
        return ref(name)

    return _SUB_VARIABLE.sub(replace, text)
