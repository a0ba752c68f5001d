"""The deploy workflow, as statemachines/deploy.asl.json is built from it (chalicelib/training/deploy.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.training.results import DeploymentPlanned, DeploymentProgress
from mlrelay.asl.builder import RetryPolicy, StateMachine, lambda_step, record_run_started, record_run_succeeded

STEP = "${TrainingStepFunctionArn}"
# About 5 hours of checks, 30 s apart: past the longest blue/green update the config allows (a 60-minute canary, its
# 60-minute wait for the old fleet and the provisioning, chalicelib/training/deploy_plan.py), in ~9,000 history events.
MAX_CHECKS = 600
# The endpoint is being changed by another deployment (or deleted after it failed): wait for it, up to ~50 minutes
# (about half that on average: the back-off's jitter is full).
ENDPOINT_BUSY = RetryPolicy(("EndpointBusyError",), 60, 1200, max_attempts=6)


def deploy() -> dict[str, Any]:
    machine = StateMachine(
        "deploy",
        "Deploy run: serve a version that became the approved one from its SageMaker endpoint. Creates the endpoint, or "
        "updates it blue/green (a canary share, then all traffic; SageMaker rolls back on the endpoint's error alarm), "
        "then checks (1 s after, doubling to every 30 s) until the version is in service. A rollback or a failed endpoint fails the run; a "
        "resume deploys again.",
    )
    record_run_started(
        machine, "model_version = :version", {":version": {"N.$": "States.Format('{}', $.version)"}}, next="DeployEndpoint",
    )
    lambda_step(
        machine, "DeployEndpoint", STEP, "deploy_endpoint",
        # the execution's name differs per resume: the step ledger replays a step's answer for the same input only
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "version.$": "$.version", "attempt.$": "$$.Execution.Name"},
        next="InitEndpointChecks", result=DeploymentPlanned.fields_read(), result_path="$.deploy", retries=(ENDPOINT_BUSY,),
        comment="Creates the version's SageMaker model and endpoint config (or copies its archive under a multi-model "
        "endpoint), then creates the endpoint or updates it with deployment guardrails. Waits while another deployment "
        "changes the endpoint.",
    )
    machine.add("InitEndpointChecks", {"Type": "Pass", "Result": {"n": 0}, "ResultPath": "$.checks", "Next": "CheckEndpoint"})
    # the check says how long to wait: 1 s, doubling to 30 s (a quick update ends quickly; creating one takes minutes)
    machine.add("WaitForEndpoint", {"Type": "Wait", "SecondsPath": "$.check.wait_seconds", "Next": "CheckEndpoint"})
    lambda_step(
        machine, "CheckEndpoint", STEP, "check_endpoint",
        {"run_id.$": "$.run_id", "model_name.$": "$.model_name", "version.$": "$.version", "deployment.$": "$.deploy.deployment",
         "attempt.$": "$$.Execution.Name", "check.$": "$.checks.n"},
        next="EndpointSettled", result=DeploymentProgress.fields_read(), result_path="$.check", reported_as="DeployEndpoint",
        comment="DescribeEndpoint: in service on the version's config (recorded), still changing, or replaced by a later "
        "decision. A rollback or a failed endpoint fails the run as DeployEndpoint, which a resume deploys again.",
    )
    machine.add("EndpointSettled", {
        "Type": "Choice",
        "Comment": f"A bounded loop: at most {MAX_CHECKS} checks, at most 30 s apart.",
        "Choices": [
            {"Variable": "$.check.state", "StringEquals": "in_service", "Next": "RecordRunSucceeded"},
            {"Variable": "$.check.state", "StringEquals": "superseded", "Next": "RecordRunSucceeded"},
            {"Variable": "$.checks.n", "NumericGreaterThanEquals": MAX_CHECKS, "Next": "EndpointTimedOut"},
        ],
        "Default": "CountEndpointCheck",
    })
    machine.add("CountEndpointCheck", {
        "Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.checks.n, 1)"}, "ResultPath": "$.checks",
        "Next": "WaitForEndpoint",
    })
    machine.fail_as(
        "EndpointTimedOut", "DeployEndpoint", error="EndpointDeploymentTimedOut",
        cause_path=f"States.Format('endpoint {{}} was still changing after {MAX_CHECKS} checks (about 5 hours): "
        "`mlrelay endpoints list` shows its state', $.deploy.deployment.endpoint)",
    )
    record_run_succeeded(
        machine, "endpoint_name = :endpoint, deployment_state = :state",
        {":endpoint": {"S.$": "$.deploy.deployment.endpoint"}, ":state": {"S.$": "$.check.state"}}, next="DeployRecorded",
    )
    machine.add("DeployRecorded", {"Type": "Succeed"})
    return machine.definition()
