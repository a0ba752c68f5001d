"""The expression language of SageMaker pipeline definitions, evaluated locally.

Covers what the SDK emits for our pipelines: {"Get": "Parameters.X"},
{"Get": "Execution.X"}, {"Get": "Steps.S.<property path>"} and Std:Join.
Anything else is refused by name rather than passed through unevaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_PATH_TOKEN = re.compile(r"\.?(\w+)|\['([^']+)'\]|\[(\d+)\]")


class ExpressionError(ValueError):
    pass


def parameter_values(declared: list[dict[str, Any]], given: list[dict[str, str]] | None) -> dict[str, Any]:
    """Pipeline parameters with their types applied and defaults filled in."""
    given_by_name = {p["Name"]: p["Value"] for p in given or []}
    values = {}
    for parameter in declared:
        name, kind = parameter["Name"], parameter.get("Type", "String")
        if name in given_by_name:
            raw = given_by_name[name]
        elif "DefaultValue" in parameter:
            raw = parameter["DefaultValue"]
        else:
            raise ExpressionError(f"pipeline parameter {name} has no value and no default")
        converters: dict[str, Callable[[Any], Any]] = {"Integer": int, "Float": float, "Boolean": _boolean}
        convert = converters.get(kind, str)
        values[name] = convert(raw)
    return values


def evaluate(node: Any, parameters: Mapping[str, Any], execution: Mapping[str, Any], steps: Mapping[str, Any]) -> Any:
    """Replace every expression in `node` by its value."""
    if isinstance(node, list):
        return [evaluate(item, parameters, execution, steps) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Get"}:
        return _get(node["Get"], parameters, execution, steps)
    if set(node) == {"Std:Join"}:
        join = node["Std:Join"]
        values = evaluate(join["Values"], parameters, execution, steps)
        return join["On"].join(_as_text(v) for v in values)
    unknown = [key for key in node if key.startswith("Std:")]
    if unknown:
        raise ExpressionError(f"the local runner does not evaluate {unknown[0]}")
    return {key: evaluate(value, parameters, execution, steps) for key, value in node.items()}


def step_references(node: Any) -> set[str]:
    """Names of the steps whose properties `node` reads."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= step_references(item)
    elif isinstance(node, dict):
        get = node.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for value in node.values():
            found |= step_references(value)
    return found


def _get(path: str, parameters: Mapping[str, Any], execution: Mapping[str, Any], steps: Mapping[str, Any]) -> Any:
    root, _, rest = path.partition(".")
    if root == "Parameters":
        return parameters[rest]
    if root == "Execution":
        return execution[rest]
    if root == "Steps":
        step_name, _, property_path = rest.partition(".")
        if step_name not in steps:
            raise ExpressionError(f"{path}: step {step_name} has not run")
        return read_property(steps[step_name], property_path)
    raise ExpressionError(f"the local runner does not evaluate Get {path!r}")


def read_property(properties: Any, path: str) -> Any:
    """Follow "ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri" through a step's properties."""
    value = properties
    for name, key, index in _PATH_TOKEN.findall(path):
        if name:
            value = value[name]
        elif key:
            # A list of named entries (outputs, channels) is indexed by its name.
            value = next(item for item in value if key in (item.get("OutputName"), item.get("ChannelName")))
        else:
            value = value[int(index)]
    return value


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _boolean(raw: Any) -> bool:
    return raw if isinstance(raw, bool) else str(raw).lower() == "true"
