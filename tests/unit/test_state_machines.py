import json

import pytest

from mlrelay.asl.build import WORKFLOWS, render, with_integrations_resolved
from mlrelay.asl.builder import INTEGRATIONS, integration_arn_template
from mlrelay.local.template import Template
from tests.conftest import ROOT
from tests.state_machines import ASL_FILES, SUBSTITUTION, json_nulls, lint, load, task_states

TEMPLATE = Template.load(ROOT / "infra" / "resources.json")


def declared_state_machines():
    return {
        spec["Properties"]["DefinitionUri"]: spec["Properties"].get("DefinitionSubstitutions", {})
        for spec in TEMPLATE.declared().values()
        if spec["Type"] == "AWS::Serverless::StateMachine"
    }


def test_there_are_state_machines_to_check():
    assert [p.name for p in ASL_FILES] == ["deploy.asl.json", "inference.asl.json", "segments.asl.json", "training.asl.json"]


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_the_committed_definition_is_what_the_builder_writes(path):
    build = WORKFLOWS[path.name.removesuffix(".asl.json")]

    assert path.read_text() == render(build()), f"{path.name} is stale: run `mlrelay statemachines build` and commit it"


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_statelint_passes_with_the_integrations_of_each_partition(path, partition):
    resolved = with_integrations_resolved(path.read_text(), partition)

    assert f"arn:{partition}:states:::" in resolved
    assert lint(resolved) == []


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_no_json_null_and_no_partition_written_out(path):
    assert json_nulls(load(path)) == 0, "AWS::LanguageExtensions strips JSON nulls: use answer_discarded() for a discarded answer"
    assert "arn:aws" not in path.read_text(), "an ARN must take its partition from the template: use service()"


def test_each_integration_substitution_is_the_integrations_arn_in_the_stacks_partition():
    for substitutions in declared_state_machines().values():
        for name, value in substitutions.items():
            if name in INTEGRATIONS:
                assert value == {"Fn::Sub": integration_arn_template(name)}, name


def test_statelint_does_catch_a_broken_definition():
    broken = {"StartAt": "Missing", "States": {"A": {"Type": "Task", "End": True}}}

    assert lint(json.dumps(broken))


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_task_retries_transient_errors_and_catches_the_rest(path):
    for name, state in task_states(load(path)).items():
        assert state.get("Retry"), f"{path.name}: {name} has no Retry"
        for retry in state["Retry"]:
            assert "States.ALL" not in retry["ErrorEquals"], f"{name} retries every error, not just transient ones"
            assert retry["MaxAttempts"] <= 6 and retry.get("BackoffRate", 1) >= 1.5, f"{name}: unbounded retry"
        catch_all = [c for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
        assert catch_all, f"{path.name}: {name} has no Catch for States.ALL"


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_substitution_is_provided_by_the_template_and_used(path):
    substitutions = declared_state_machines()[f"statemachines/{path.name}"]

    used = set(SUBSTITUTION.findall(path.read_text()))

    assert used == set(substitutions)


def test_every_asl_file_is_declared_in_the_template():
    assert set(declared_state_machines()) == {f"statemachines/{p.name}" for p in ASL_FILES}


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_failure_reaches_the_report_with_the_name_of_its_step(path):
    states = load(path)["States"]
    for name, state in task_states(load(path)).items():
        for catch in state.get("Catch", []):
            if name not in states:  # a Map's own Task: its failure is that item's outcome (a segment that did not train)
                continue
            target = states[catch["Next"]]
            if catch["Next"] in ("ReportFailure", "MarkRunFailed", "FailureKind", "ReadPipelineOutcome"):
                continue
            assert target["Type"] == "Pass" and target["Next"] == "ReportFailure", f"{name} -> {catch['Next']}"
            assert target["Result"]["name"] in states, f"{catch['Next']} names a step that does not exist"
    assert states["ReportFailure"]["Parameters"]["MessageBody"]["state.$"] == "$.failed_state.name"


def test_the_state_names_a_resume_needs_are_committed_as_read_from_the_built_definitions():
    from mlrelay.asl.build import RESUME_STATES_FILE
    from mlrelay.asl.resume_states import resume_states

    built = resume_states({name: build() for name, build in WORKFLOWS.items()})

    assert RESUME_STATES_FILE.read_text() == render(built), "chalicelib/resume/states.json is stale: run `mlrelay statemachines build`"
    assert built["config_step"] == {"training": "LoadTrainingConfig"}
    assert {"WaitForTrainingPipeline", "WaitForInferencePipeline"} <= set(built["pipeline_waits"])
