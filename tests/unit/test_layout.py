"""The layout tells the story: a workflow package never imports another; shared pieces live in shared/, aws/, config/."""

import ast

import pytest

from tests.conftest import ROOT

CHALICELIB = ROOT / "chalicelib"
WORKFLOWS = sorted(p.name for p in CHALICELIB.iterdir() if p.is_dir() and p.name not in {"aws", "config", "shared", "__pycache__"})
SHARED = {"aws", "config", "shared"}


def imported_packages(path):
    packages = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        packages |= {name.split(".")[1] for name in names if name.startswith("chalicelib.") and name.count(".") >= 1}
    return packages


def test_the_workflow_packages_are_the_ones_people_see():
    assert WORKFLOWS == ["alerts", "approvals", "inference", "intake", "pipeline_status", "resume", "training"]
    assert not [p.name for p in CHALICELIB.glob("*.py") if p.name != "__init__.py"], "modules belong in a package"


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_a_workflow_package_imports_only_itself_and_the_shared_packages(workflow):
    for path in (CHALICELIB / workflow).glob("*.py"):
        assert imported_packages(path) <= SHARED | {workflow}, path.relative_to(ROOT)


@pytest.mark.parametrize("shared", sorted(SHARED))
def test_the_shared_packages_import_no_workflow(shared):
    for path in (CHALICELIB / shared).glob("*.py"):
        assert not imported_packages(path) - SHARED, path.relative_to(ROOT)


def test_every_workflow_keeps_its_pure_plan_apart_from_the_code_that_acts():
    for workflow in WORKFLOWS:
        assert (CHALICELIB / workflow / "plan.py").exists() and (CHALICELIB / workflow / "handler.py").exists(), workflow
        plan = imported_packages(CHALICELIB / workflow / "plan.py")
        assert "aws" not in plan or workflow == "alerts", f"{workflow}/plan.py reaches AWS"
