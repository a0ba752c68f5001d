"""What a deployment asks of SageMaker: pure, from the serving settings, the version's container and the endpoint now.

One endpoint per model (`mlrelay-<stage>-<model>`) serves its approved version; a new version comes in by
UpdateEndpoint, blue/green with SageMaker's deployment guardrails: the canary share first, then all traffic, and
back to the old fleet on its own if the endpoint's error alarm fires. A model family with `serving.multi_model`
has one multi-model endpoint (`mlrelay-<stage>-<family>`): each segment's version is a model archive under the
endpoint's prefix, chosen per request by TargetModel, so a segment's promotion is a copy, not an update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.shared.endpoint_states import EndpointBusyError, EndpointState
from chalicelib.shared.naming import endpoint_name, endpoint_version_name

VARIANT = "AllTraffic"
# SageMaker's bounds for a blue/green update's MaximumExecutionTimeoutInSeconds; it must exceed the bakes and waits
MIN_DEPLOYMENT_SECONDS, MAX_DEPLOYMENT_SECONDS = 600, 28800
PROVISIONING_SECONDS = 1800  # room for the new fleet to start, beyond the canary's bake and the old fleet's wait
CONTAINER_FIELDS = ("Image", "ModelDataUrl", "Environment")  # DescribeModelPackage adds fields CreateModel refuses
MULTI_MODEL_PREFIX = "endpoints"  # s3://<artifacts>/endpoints/<family>/<segment model>/v<N>.tar.gz


class NothingToServeError(ValueError):
    """The version's config asks for no endpoint, and the model has none to move."""


class DeploymentFailedError(RuntimeError):
    """SageMaker could not serve the version: the endpoint failed, or rolled back to the version before."""


@dataclass(frozen=True)
class Deployment:
    """The SageMaker resources serving one version, and what to do to the endpoint."""

    model_name: str
    version: int
    endpoint: str
    sagemaker_model: str
    config_name: str
    container: dict[str, Any]
    variant: dict[str, Any]
    action: Literal["create", "update", "none"]
    deployment_config: dict[str, Any] = field(default_factory=dict)
    target_model: str = ""  # multi-model: the archive's path under the endpoint's prefix
    target_uri: str = ""  # multi-model: where the version's model.tar.gz is copied
    alarm: str = ""

    def summary(self) -> dict[str, Any]:
        """What the workflow carries to the check and the record."""
        return {
            "endpoint": self.endpoint, "config_name": self.config_name, "sagemaker_model": self.sagemaker_model,
            "action": self.action, "target_model": self.target_model, "alarm": self.alarm,
            "mode": "multi_model" if self.target_model else "single_model",
        }


def plan_deployment(
    stage: str, model_name: str, version: int, serving: dict[str, Any], registered: dict[str, Any], family: str | None,
    artifact_bucket: str, endpoint: EndpointState | None, guarded: bool = True,
) -> Deployment:
    """`serving`: the config's serving settings; `registered`: the version's serving container as the registry holds
    it; `family`: the family's model name when the version is a segment's; `endpoint`: the endpoint as it is now (None:
    none); `guarded`: roll back on the endpoint's error alarm (not when a person moves it back to an older version: the
    alarm then fires on the fleet being replaced, and SageMaker would keep it)."""
    if serving.get("endpoint") is None:
        raise NothingToServeError(f"{model_name} v{version}'s config has no serving.endpoint: set it in the config and "
                                  "train again, or approve a version whose config has it")
    container = {name: registered[name] for name in CONTAINER_FIELDS if name in registered}
    settings = json.dumps(serving, sort_keys=True)
    if serving.get("multi_model") and family:
        return _multi_model(stage, model_name, version, serving, container, family, artifact_bucket, endpoint, settings)
    name = endpoint_name(stage, model_name)
    identity = (container["ModelDataUrl"], json.dumps(container, sort_keys=True))
    sagemaker_model = endpoint_version_name(stage, model_name, f"v{version}", *identity)
    config_name = endpoint_version_name(stage, model_name, f"v{version}", *identity, settings)
    return Deployment(
        model_name, version, name, sagemaker_model, config_name, container, _variant(sagemaker_model, serving),
        _action(endpoint, config_name), _guardrails(serving, _alarm(name) if guarded else None), alarm=_alarm(name),
    )


def _multi_model(
    stage: str, model_name: str, version: int, serving: dict[str, Any], container: dict[str, Any], family: str,
    artifact_bucket: str, endpoint: EndpointState | None, settings: str,
) -> Deployment:
    name = endpoint_name(stage, family)
    prefix = f"s3://{artifact_bucket}/{MULTI_MODEL_PREFIX}/{family}/"
    environment = container.get("Environment", {})
    shared = {"Image": container["Image"], "Mode": "MultiModel", "ModelDataUrl": prefix, "Environment": environment}
    identity = json.dumps(shared, sort_keys=True)
    sagemaker_model = endpoint_version_name(stage, family, "multi", identity)
    config_name = endpoint_version_name(stage, family, "multi", identity, settings)
    target = f"{model_name}/v{version}.tar.gz"  # a new name per version: SageMaker caches a target by its name
    return Deployment(
        model_name, version, name, sagemaker_model, config_name, shared, _variant(sagemaker_model, serving),
        _action(endpoint, config_name), _guardrails(serving, _alarm(name)), target_model=target,
        target_uri=prefix + target, alarm=_alarm(name),
    )


def _variant(sagemaker_model: str, serving: dict[str, Any]) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": sagemaker_model}
    if serving["endpoint"] == "serverless":
        variant["ServerlessConfig"] = {"MemorySizeInMB": serving["memory_mb"], "MaxConcurrency": serving["max_concurrency"]}
    else:
        variant.update(InstanceType=serving["instance_type"], InitialInstanceCount=serving["instance_count"],
                       InitialVariantWeight=1.0)
    return variant


def _guardrails(serving: dict[str, Any], alarm: str | None) -> dict[str, Any]:
    """Blue/green: the canary share of the new fleet for canary_minutes, then all of it, the old fleet kept as long again
    (SageMaker can still roll back to it); rolled back on the alarm. One instance cannot be split into a canary, so it
    moves all at once after the same bake; so does any version when canary_minutes is 0."""
    wait = serving.get("canary_minutes", 5) * 60
    single_instance = serving["endpoint"] == "instance" and serving.get("instance_count", 1) < 2
    routing: dict[str, Any] = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": wait}
    if wait and not single_instance:  # no bake: nothing to learn from a canary
        routing = {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": serving.get("canary_percent", 10)},
                   "WaitIntervalInSeconds": wait}
    timeout = min(MAX_DEPLOYMENT_SECONDS, max(MIN_DEPLOYMENT_SECONDS, 2 * wait + PROVISIONING_SECONDS))
    guardrails: dict[str, Any] = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": routing, "TerminationWaitInSeconds": wait, "MaximumExecutionTimeoutInSeconds": timeout}}
    if alarm is not None:
        guardrails["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": alarm}]}
    return guardrails


def _alarm(endpoint: str) -> str:
    return f"{endpoint}-model-errors"


def _action(endpoint: EndpointState | None, config_name: str) -> Literal["create", "update", "none"]:
    if endpoint is None:
        return "create"
    if endpoint.status == "Creating" and endpoint.config_name == config_name:  # a sibling segment's deployment makes it
        return "none"
    if endpoint.in_progress:  # while Updating, DescribeEndpoint still names the old config: no comparing before it ends
        raise EndpointBusyError(f"endpoint {endpoint.name} is {endpoint.status}: the deployment waits until it settles")
    if endpoint.config_name == config_name:
        return "none"
    return "update"


@dataclass(frozen=True)
class Progress:
    """Where a deployment stands: in_service (done), in_progress, superseded (a newer deployment replaced it)."""

    state: Literal["in_service", "in_progress", "superseded"]
    message: str


def progress(expected_config: str, endpoint: EndpointState | None, still_wanted: bool, multi_model: bool = False) -> Progress:
    """`still_wanted`: the version is still the one the model's pointer names (a later decision may have moved it);
    `multi_model`: a segment's archive, served by any config of its family's endpoint (they share the prefix)."""
    if endpoint is None:
        raise DeploymentFailedError(f"the endpoint is gone (deleted while {expected_config} was deployed): deploy again "
                                    "with `mlrelay runs resume`")
    if endpoint.in_progress:
        return Progress("in_progress", f"{endpoint.name} is {endpoint.status}")
    if endpoint.status == "InService" and (endpoint.config_name == expected_config or multi_model):
        return Progress("in_service", f"{endpoint.name} serves {expected_config}")
    if not still_wanted:
        return Progress("superseded", f"{endpoint.name} serves {endpoint.config_name}: another decision replaced this version")
    if endpoint.status == "Failed":
        raise DeploymentFailedError(f"endpoint {endpoint.name} failed: {endpoint.failure_reason or 'no reason given'}")
    reason = endpoint.failure_reason or "no reason given"
    if endpoint.status in ("UpdateRollbackFailed", "OutOfService"):
        raise DeploymentFailedError(f"endpoint {endpoint.name} is {endpoint.status} ({reason}): SageMaker cannot change it "
                                    "until it is fixed by hand (delete it, then resume this run)")
    raise DeploymentFailedError(f"SageMaker rolled endpoint {endpoint.name} back to {endpoint.config_name}: {reason}")
