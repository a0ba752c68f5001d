"""The training, segments and deploy state machines' Lambda step: the payload's `step` picks the use case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from chalicelib.shared.ports import aws_ports
from chalicelib.shared.steps import UseCase, run_step
from chalicelib.training.deploy import check_endpoint, deploy_endpoint, start_after_training
from chalicelib.training.requests import (
    CheckEndpointStep,
    DeployEndpointStep,
    EvaluateStep,
    LoadConfigStep,
    PlanSegmentsStep,
    RegisterStep,
    StartDeploymentStep,
    SummarizeSegmentsStep,
    training_step_requests,
)
from chalicelib.training.results import RESULTS
from chalicelib.training.segments import plan_segments, summarize_segments
from chalicelib.training.steps import evaluate_candidate, load_training_settings, register_model

USE_CASES: Mapping[type[BaseModel], UseCase] = {
    LoadConfigStep: load_training_settings, EvaluateStep: evaluate_candidate, RegisterStep: register_model,
    PlanSegmentsStep: plan_segments, SummarizeSegmentsStep: summarize_segments,
    StartDeploymentStep: start_after_training, DeployEndpointStep: deploy_endpoint, CheckEndpointStep: check_endpoint,
}


def handle_training_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_step(event, training_step_requests, USE_CASES, aws_ports(), RESULTS)
