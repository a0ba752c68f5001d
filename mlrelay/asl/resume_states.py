"""What a resume needs to know of the workflows' states, read from their built definitions.

`mlrelay statemachines build` writes it to chalicelib/resume/states.json beside
statemachines/*.asl.json, and a test fails when either is stale, so a renamed
state cannot leave chalicelib/resume/plan.py naming the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlrelay.asl.builder import service

# The Lambda step that reads a workflow's config (chalicelib/training/steps.py); a resume with a changed config
# or changed inputs goes back to the state that runs it.
CONFIG_LAMBDA_STEPS = {"training": "load_config"}
_WAIT = service("aws-sdk:dynamodb:updateItem.waitForTaskToken")
_START_PIPELINE = service("aws-sdk:sagemaker:startPipelineExecution")


def resume_states(definitions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """{pipeline_waits, config_step, config_lambda_step, before_config_step, read_by_the_pipeline} of `definitions`
    (workflow -> ASL definition)."""
    waits: set[str] = set()
    config_step: dict[str, str] = {}
    before_config: set[str] = set()
    read_by_the_pipeline: set[str] = set()
    for workflow, definition in definitions.items():
        states: Mapping[str, Any] = definition["States"]
        waits |= {name for name, state in states.items() if state.get("Resource") == _WAIT}
        lambda_step = CONFIG_LAMBDA_STEPS.get(workflow)
        if lambda_step is None:
            continue
        (config_state,) = [name for name, state in states.items()
                           if state.get("Parameters", {}).get("Payload", {}).get("step") == lambda_step]
        config_step[workflow] = config_state
        before_config |= {name for name, state in states.items() if state.get("Next") == config_state}
        for name, state in states.items():  # the pipeline's start and the wait that follows it
            if state.get("Resource") == _START_PIPELINE:
                read_by_the_pipeline |= {name, state["Next"]}
    return {
        "pipeline_waits": sorted(waits),
        "config_step": config_step,
        "config_lambda_step": {workflow: CONFIG_LAMBDA_STEPS[workflow] for workflow in config_step},
        "before_config_step": sorted(before_config),
        "read_by_the_pipeline": sorted(read_by_the_pipeline),
    }
