"""The deploy workflow's steps: serve the approved version from its endpoint (chalicelib/training/deploy_plan.py).

A deployment starts when a version becomes the approved one (chalicelib/shared/deployments.py): a training run
promoting it (start_after_training, after RegisterApprovedModel) or a person's decision (chalicelib/approvals/). Its
run creates or updates the endpoint and waits until SageMaker serves the version, rolls it back, or fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.shared import settings
from chalicelib.shared.deployments import config_of, serving_of, start_deployment
from chalicelib.shared.endpoint_states import EndpointBusyError
from chalicelib.shared.naming import endpoint_name
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import TrainingPorts
from chalicelib.training.deploy_plan import VARIANT, Deployment, NothingToServeError, plan_deployment, progress
from chalicelib.training.requests import CheckEndpointStep, DeployEndpointStep, StartDeploymentStep

MAX_CHECK_WAIT_SECONDS = 30  # between looks at a changing endpoint, once the first quick looks found it still changing


def start_after_training(request: StartDeploymentStep, ports: TrainingPorts) -> dict[str, Any]:
    """The version a training run registered, when it is the approved one now and its config asks for an endpoint."""
    approved = ports.models.approved(request.model_name)
    if request.status != "Approved" or approved is None or approved.version != request.version:
        return {"started": False, "run_id": ""}
    return start_deployment(ports, approved, f"promoted by training run {request.run_id}", request.run_id)


def deploy_endpoint(request: DeployEndpointStep, ports: TrainingPorts) -> dict[str, Any]:
    """Create the version's SageMaker model and endpoint config, then create the endpoint or update it to them; nothing
    when another version is the approved one by now (a later decision's deploy run serves it)."""
    approved = ports.models.approved(request.model_name)
    if approved is None or approved.version != request.version:
        now = f"v{approved.version}" if approved else "no version"
        return {"deployment": {"action": "superseded", "endpoint": endpoint_name(settings.stage(), request.model_name),
                               "message": f"{request.model_name} uses {now} now: v{request.version} is not deployed"}}
    record = approved  # the version itself, read just now
    config = config_of(ports, record)
    serving = serving_of(ports, record, config)
    if serving is None:
        raise NothingToServeError(f"{request.model_name} v{request.version}'s config has no serving.endpoint and the "
                                  "model has no endpoint: set serving.endpoint in the config and train again")
    family = config.model_name if config.segments is not None and serving.get("multi_model") else None
    name = endpoint_name(settings.stage(), family or request.model_name)
    endpoint = ports.endpoints.describe(name)
    if endpoint is not None and endpoint.status == "Failed":  # SageMaker updates no failed endpoint: it is made again
        ports.endpoints.delete(name)
        raise EndpointBusyError(f"endpoint {name} had failed ({endpoint.failure_reason}): deleted, to be created again")
    container = ports.registry.container(record.model_package_arn)
    served = ports.models.deployment(request.model_name)
    # the rollback alarm guards a newer version; a person going back to an older one is not held by the fleet it replaces
    guarded = served is None or request.version > int(served["version"])
    deployment = plan_deployment(settings.stage(), request.model_name, request.version, serving, container, family,
                                 ports.artifact_bucket, endpoint, guarded)
    _apply(ports, deployment, record, container["ModelDataUrl"], family)
    return {"deployment": {**deployment.summary(), "serving": serving}}


def _apply(ports: TrainingPorts, deployment: Deployment, record: VersionRecord, artifact: str, family: str | None) -> None:
    tags = {"mlrelay:stage": settings.stage(), "mlrelay:model": family or record.model_name}
    if deployment.target_uri:  # a multi-model endpoint loads the archive by its name on the first request for it
        ports.s3.copy(artifact, deployment.target_uri)
    role = ports.model_roles.ensure(family or record.model_name)  # a family's endpoint serves every segment: its own role
    ports.endpoints.ensure_model(deployment.sagemaker_model, deployment.container, role, tags)
    ports.endpoints.ensure_config(deployment.config_name, deployment.variant, tags)
    ports.endpoints.ensure_error_alarm(deployment.alarm, deployment.endpoint, VARIANT)
    if deployment.action == "create":
        ports.endpoints.create(deployment.endpoint, deployment.config_name, tags)
    elif deployment.action == "update":
        ports.endpoints.update(deployment.endpoint, deployment.config_name, deployment.deployment_config)
    logger.info("endpoint deployment asked", extra={**deployment.summary(), "version": record.version})


def check_endpoint(request: CheckEndpointStep, ports: TrainingPorts) -> dict[str, Any]:
    """Where the deployment stands; once SageMaker serves the version, the model's endpoint record says so."""
    deployment = request.deployment
    wait = min(MAX_CHECK_WAIT_SECONDS, 2 ** min(request.check, 5))
    if deployment["action"] == "superseded":
        return {"state": "superseded", "message": deployment["message"], "wait_seconds": wait}
    approved = ports.models.approved(request.model_name)
    state = progress(deployment["config_name"], ports.endpoints.describe(deployment["endpoint"]),
                     still_wanted=approved is not None and approved.version == request.version,
                     multi_model=deployment["mode"] == "multi_model")
    if state.state == "in_service":
        ports.models.record_deployment(request.model_name, {
            "endpoint": deployment["endpoint"], "version": request.version, "config_name": deployment["config_name"],
            "mode": deployment["mode"], "target_model": deployment["target_model"], "serving": deployment["serving"],
            "run_id": request.run_id, "deployed_at": datetime.now(UTC).isoformat(),
        })
    return {"state": state.state, "message": state.message, "wait_seconds": wait}

