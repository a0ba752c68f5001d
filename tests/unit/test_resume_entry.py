"""Every step a workflow can name as failed is one its first state can resume at, and leads there."""

import pytest

from tests.conftest import ROOT
from tests.state_machines import load

MACHINES = sorted((ROOT / "statemachines").glob("*.asl.json"))


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_every_nameable_failed_step_is_a_resume_point_that_enters_that_step(path):
    states = load(path)["States"]
    named = {s["Result"]["name"] for n, s in states.items() if n.endswith("Failed") and s["Type"] == "Pass"}
    routes = {c["StringEquals"]: c["Next"] for c in states["StartOrResume"]["Choices"] if "StringEquals" in c}

    assert routes == {name: name for name in named}
