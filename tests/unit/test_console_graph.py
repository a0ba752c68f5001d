"""The console's state machine drawing: one node per state, coloured by its status, laid out top to bottom, always valid SVG."""

import json
import xml.etree.ElementTree as ET

import pytest

from mlrelay.console.graph import StateView, render_svg
from tests.conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
MACHINES = sorted(path.name for path in (ROOT / "statemachines").glob("*.asl.json"))


def machine(name):
    return json.loads((ROOT / "statemachines" / name).read_text())


def nodes(svg):
    return {g.get("data-state"): g for g in ET.fromstring(svg).iter(f"{SVG}g") if "state" in g.get("class", "").split()}


def top(node):
    """The y of the node's own box (the highlight halo is a wider rect behind it)."""
    return next(float(rect.get("y")) for rect in node.iter(f"{SVG}rect") if rect.get("width") == "190")


def edges(svg):
    return [path for path in ET.fromstring(svg).iter(f"{SVG}path") if "edge" in path.get("class", "").split()]


def test_the_real_machines_are_the_ones_drawn_here():
    assert MACHINES == ["deploy.asl.json", "inference.asl.json", "segments.asl.json", "training.asl.json"]


@pytest.mark.parametrize("name", MACHINES)
def test_every_state_of_a_real_machine_is_one_node_in_well_formed_svg(name):
    definition = machine(name)
    svg = render_svg(definition, {})
    root = ET.fromstring(svg)
    drawn = [g.get("data-state") for g in root.iter(f"{SVG}g") if "state" in g.get("class", "").split()]
    assert sorted(drawn) == sorted(definition["States"])
    assert len(drawn) == len(set(drawn))
    assert root.get("role") == "img" and root.get("aria-label")
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    for node in nodes(svg).values():  # every node fits inside the drawing
        assert 0 <= top(node) and top(node) + 44 <= height
        for rect in node.iter(f"{SVG}rect"):
            assert 0 <= float(rect.get("x")) and float(rect.get("x")) + float(rect.get("width")) <= width
    assert len({g.get("id") for g in nodes(svg).values()}) == len(drawn)


@pytest.mark.parametrize("name", MACHINES)
def test_start_at_is_alone_on_top_and_every_edge_is_drawn_once(name):
    definition = machine(name)
    svg = render_svg(definition, {})
    ys = {state: top(node) for state, node in nodes(svg).items()}
    start = definition["StartAt"]
    assert [state for state, y in ys.items() if y == min(ys.values())] == [start]
    transitions = set()
    for state_name, state in definition["States"].items():
        targets = [state.get("Next"), state.get("Default")] + [rule["Next"] for rule in state.get("Choices", [])]
        transitions |= {(state_name, target) for target in targets + [c["Next"] for c in state.get("Catch", [])] if target}
    assert len(edges(svg)) == len(transitions)


def test_a_map_state_is_one_node_and_its_inner_states_are_not_drawn():
    definition = machine("segments.asl.json")
    inner = definition["States"]["TrainSegments"]["ItemProcessor"]["States"]
    drawn = nodes(render_svg(definition, {}))
    assert "TrainSegments" in drawn and "Map" in "".join(drawn["TrainSegments"].itertext())
    assert not set(inner) & set(drawn)


def test_the_deploy_loop_is_drawn_without_hanging_and_the_rows_follow_the_flow():
    svg = render_svg(machine("deploy.asl.json"), {})
    y = {state: top(node) for state, node in nodes(svg).items()}
    # the polling loop: CheckEndpoint -> EndpointSettled -> CountEndpointCheck -> WaitForEndpoint -> back to CheckEndpoint
    assert y["StartOrResume"] < y["RecordRunStarted"] < y["DeployEndpoint"] < y["InitEndpointChecks"] < y["CheckEndpoint"]
    assert y["CheckEndpoint"] < y["EndpointSettled"] < y["CountEndpointCheck"] < y["WaitForEndpoint"]
    assert y["MarkRunFailed"] < y["FailureKind"] < y["RunFailed"] == y["RunFailedInWorkflow"]


def test_layers_are_the_longest_path_from_start_at_and_a_layer_shares_one_y():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.x", "IsPresent": True}, "Next": "B"}], "Default": "C"},
            "B": {"Type": "Pass", "Next": "C"},
            "C": {"Type": "Pass", "Next": "D"},
            "E": {"Type": "Pass", "Next": "D"},
            "D": {"Type": "Wait", "Seconds": 5, "Next": "A"},
            "Orphan": {"Type": "Succeed"},
        },
    }
    y = {state: top(node) for state, node in nodes(render_svg(definition, {})).items()}
    assert y["A"] < y["B"] < y["C"] < y["D"]  # C is below B, not beside it: the longest path wins; D -> A is a loop
    assert y["E"] == y["Orphan"] > y["D"]  # nothing leads to them from A, so they start a row below the reachable ones


def test_states_start_at_does_not_reach_go_below_in_definition_order():
    definition = {
        "StartAt": "A",
        "States": {"X": {"Type": "Pass", "Next": "Y"}, "A": {"Type": "Succeed"}, "Y": {"Type": "Fail"}, "Z": {"Type": "Fail"}},
    }
    svg = render_svg(definition, {})
    y = {state: top(node) for state, node in nodes(svg).items()}
    x = {state: min(float(r.get("x")) for r in node.iter(f"{SVG}rect")) for state, node in nodes(svg).items()}
    assert y["A"] < y["X"] == y["Z"] < y["Y"]
    assert x["X"] < x["Z"]


def test_states_are_reordered_within_a_row_to_uncross_edges():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Choice", "Choices": [{"Or": [], "Next": "B1"}], "Default": "B2"},
            "B1": {"Type": "Pass", "Next": "C2"},
            "B2": {"Type": "Pass", "Next": "C1"},
            "C1": {"Type": "Succeed"},
            "C2": {"Type": "Succeed"},
        },
    }
    x = {state: float(next(node.iter(f"{SVG}rect")).get("x")) for state, node in nodes(render_svg(definition, {})).items()}
    assert x["B1"] < x["B2"]
    assert x["C2"] < x["C1"]  # in definition order C1 would be left of C2, and the two edges would cross


def test_statuses_become_classes_and_states_without_a_view_have_not_run():
    views = {
        "StartOrResume": StateView("succeeded", attempts=1, seconds=0.2),
        "DeployEndpoint": StateView("caught", attempts=3, seconds=1.23, detail="SageMaker.ResourceLimitExceeded"),
        "CheckEndpoint": StateView("running", attempts=1),
        "RunFailed": StateView("failed"),
    }
    drawn = nodes(render_svg(machine("deploy.asl.json"), views))
    for state, node in drawn.items():
        status = views[state].status if state in views else "not run"
        assert node.get("data-status") == status
        assert f"status-{status.replace(' ', '-')}" in node.get("class").split()
    deploy = drawn["DeployEndpoint"]
    assert "Task · ×3 · 1.2 s" in "".join(deploy.itertext())
    tooltip = deploy.find(f"{SVG}title").text
    expected = ["DeployEndpoint", "Task · caught", "attempts: 3", "time: 1.2 s", "SageMaker.ResourceLimitExceeded"]
    assert tooltip.splitlines() == expected
    assert "×" not in "".join(drawn["StartOrResume"].itertext())  # one attempt is not worth a mark
    assert "".join(drawn["RunFailedInWorkflow"].itertext()).endswith("Fail")  # not run: only its type


def test_only_the_highlighted_state_has_the_highlight_class():
    drawn = nodes(render_svg(machine("training.asl.json"), {"StartDeployment": StateView("failed")}, highlight="StartDeployment"))
    assert [state for state, node in drawn.items() if "highlight" in node.get("class").split()] == ["StartDeployment"]
    assert len(list(drawn["StartDeployment"].iter(f"{SVG}rect"))) == 2  # the halo behind the box
    assert all(len(list(node.iter(f"{SVG}rect"))) == 1 for state, node in drawn.items() if state != "StartDeployment")


def test_catch_edges_are_dashed_and_normal_edges_are_not():
    svg = render_svg(machine("deploy.asl.json"), {})
    classes = [path.get("class") for path in edges(svg)]
    # RecordRunStarted, DeployEndpoint, CheckEndpoint, RecordRunSucceeded catch to a failure state; ReportFailure and
    # MarkRunFailed catch to where their Next goes anyway, so those are drawn once, solid
    assert classes.count("edge catch") == 4
    assert set(classes) == {"edge", "edge catch"}
    style = ET.fromstring(svg).find(f"{SVG}defs/{SVG}style").text
    assert ".edge.catch{" in style and "stroke-dasharray" in style.split(".edge.catch{")[1].split("}")[0]
    assert all(path.get("marker-end", "").startswith("url(#") for path in edges(svg))


def test_names_and_details_are_escaped_and_ids_stay_safe_and_unique():
    evil = 'a<&"b>'
    states = {evil: {"Type": "Pass", "Next": "a b"}, "a b": {"Type": "Pass", "Next": "a_b"}, "a_b": {"Type": "Succeed"}}
    definition = {"StartAt": evil, "States": states}
    svg = render_svg(definition, {evil: StateView("failed", detail='Err<"x">&\x00')}, highlight=evil)
    drawn = nodes(svg)
    assert set(drawn) == {evil, "a b", "a_b"}
    assert drawn[evil].get("id") == "state-a___b_"
    assert drawn[evil].find(f"{SVG}title").text.splitlines()[0] == evil
    assert 'Err<"x">&' in drawn[evil].find(f"{SVG}title").text
    assert len({node.get("id") for node in drawn.values()}) == 3
    assert ET.fromstring(svg).get("aria-label").endswith(f"failed at {evil}")


def test_a_long_name_is_shortened_in_the_box_and_whole_in_the_tooltip():
    name = "NotifyPredictionsLoadedFailedAgainAndAgain"
    node = nodes(render_svg({"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}, {}))[name]
    shown = [text.text for text in node.iter(f"{SVG}text")][0]
    assert shown.endswith("…") and len(shown) == 26 and name.startswith(shown[:-1])
    assert node.find(f"{SVG}title").text.splitlines()[0] == name


def test_the_drawing_is_deterministic():
    for name in MACHINES:
        views = {"StartOrResume": StateView("succeeded", attempts=2, seconds=3.0)}
        first = render_svg(machine(name), views, highlight="StartOrResume")
        assert first == render_svg(machine(name), dict(views), "StartOrResume")


def test_an_empty_machine_is_still_an_svg():
    root = ET.fromstring(render_svg({"StartAt": "Nowhere", "States": {}}, {}))
    assert root.tag == f"{SVG}svg" and float(root.get("width")) > 0 and float(root.get("height")) > 0
