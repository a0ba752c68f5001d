"""The inference state machine's Lambda step: the payload's `step` picks the use case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from chalicelib.inference.quality_steps import judge_quality
from chalicelib.inference.requests import (
    CountStep,
    LoadStep,
    MonitoringStep,
    PrepareStep,
    QualityStep,
    VerifyStep,
    inference_step_requests,
)
from chalicelib.inference.results import RESULTS
from chalicelib.inference.steps import count, load, prepare, record_monitoring, verify
from chalicelib.shared.ports import aws_ports
from chalicelib.shared.steps import UseCase, run_step

USE_CASES: Mapping[type[BaseModel], UseCase] = {
    PrepareStep: prepare, MonitoringStep: record_monitoring, QualityStep: judge_quality, LoadStep: load, CountStep: count,
    VerifyStep: verify,
}


def handle_inference_step(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_step(event, inference_step_requests, USE_CASES, aws_ports(), RESULTS)
