"""Linting helpers for the ASL files, used by unit and functional tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from statelint.config import Config
from statelint.linter import Linter

from tests.conftest import ROOT

ASL_FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")


def lint(definition_or_path: str | Path) -> list[str]:
    """statelint's problems for one definition (a file path or the JSON text)."""
    return [str(p) for p in Linter.validate(str(definition_or_path), Config(None, False, False))]


def task_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, including those nested in Parallel branches and Map processors."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []) + [state.get("ItemProcessor") or state.get("Iterator") or {}]:
            if branch:
                found.update(task_states(branch))
    return found


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def json_nulls(node: Any) -> int:
    """How many JSON nulls a document holds (AWS::LanguageExtensions strips them; definitions must hold none)."""
    if isinstance(node, dict):
        return sum(json_nulls(v) for v in node.values())
    if isinstance(node, list):
        return sum(json_nulls(v) for v in node)
    return int(node is None)
