"""SageMaker real-time endpoints: deploys and invocations go to mlrelay/local/endpoints.py, which moto lacks.

moto 5.2.5 makes an endpoint InService at once, without loading anything; it
has no UpdateEndpoint; a second CreateEndpoint of a name replaces the first;
its runtime's InvokeEndpoint answers canned bodies. Here CreateEndpoint hands
the endpoint to `LocalEndpoints` (Creating until its hosts load), UpdateEndpoint
is checked as SageMaker checks it and handed over too, DeleteEndpoint ends the
hosts, and InvokeEndpoint (after moto's authorization, which the stack makes
IAM's) runs the model's serving code. `MotoCatalog` is how the endpoints read
moto's configurations, models and alarms and write each status back into
moto's endpoint object, where DescribeEndpoint and a durable stack find it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock
from urllib.parse import unquote

from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from mlrelay.local.endpoint_deploy import DeploymentConfigError, plan
from mlrelay.local.endpoint_fleet import EndpointConfig, Variant
from mlrelay.local.endpoint_process import ModelSpec
from mlrelay.local.endpoints import EndpointState, InvocationError, LocalEndpoints


class _RuntimeError(JsonRESTError):
    """sagemaker-runtime's errors: ValidationError (400), ModelError (424, with the container's status and message)."""

    def __init__(self, error: InvocationError):
        super().__init__(error.code, error.message)
        self.code = error.status
        body: dict[str, Any] = {"__type": error.code, "message": error.message}
        if error.original is not None:
            body |= {"OriginalStatusCode": error.original[0], "OriginalMessage": error.original[1]}
        self.description = json.dumps(body)


@contextmanager
def patched(endpoints: LocalEndpoints) -> Iterator[None]:
    original_create = SageMakerModelBackend.create_endpoint
    original_delete = SageMakerModelBackend.delete_endpoint

    def create_endpoint(self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str,
                        tags: list[dict[str, str]]) -> FakeEndpoint:
        if endpoint_name in self.endpoints:
            raise ValidationError(message=f'Cannot create already existing endpoint "{_arn(self, endpoint_name)}".')
        endpoint = original_create(self, endpoint_name, endpoint_config_name, tags)
        endpoints.created(endpoint_name, endpoint_config_name)
        return endpoint

    def delete_endpoint(self: SageMakerModelBackend, endpoint_name: str) -> None:
        original_delete(self, endpoint_name)
        endpoints.deleted(endpoint_name)

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend, name = self.sagemaker_backend, self._get_param("EndpointName")
        config_name, deployment = self._get_param("EndpointConfigName"), self._get_param("DeploymentConfig")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(message=f"Could not find endpoint '{_arn(backend, name)}'.")
        if config_name not in backend.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(config_name, backend.account_id, backend.region_name)
            raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
        status = endpoints.status(name) or endpoint.endpoint_status
        if status in ("Creating", "Updating", "RollingBack", "SystemUpdating", "Deleting"):
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        if status == "Failed":
            raise ValidationError(message=f'Cannot update failed endpoint "{endpoint.arn}": delete it and create it again.')
        try:
            plan(deployment, 1)  # the fields' check; the shares are computed again with the new fleet's size
        except DeploymentConfigError as err:
            raise ValidationError(message=f"DeploymentConfig: {err}") from err
        endpoints.update(name, config_name, deployment)
        return ActionResult({"EndpointArn": endpoint.arn})

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> TYPE_RESPONSE:
        name = unquote(self.path.split("/")[2])
        body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.body or "").encode()
        content_type = self.headers.get("Content-Type") or "application/octet-stream"
        accept = self.headers.get("Accept") or ""
        accept = content_type if accept in ("", "*/*") else accept
        try:
            answer = endpoints.invoke(name, body, content_type, accept, self.headers.get("X-Amzn-SageMaker-Target-Model") or "")
        except InvocationError as err:
            raise _RuntimeError(err) from err
        return 200, {"Content-Type": answer.content_type, "x-Amzn-Invoked-Production-Variant": answer.variant}, answer.body

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(SageMakerModelBackend, "create_endpoint", create_endpoint))
        stack.enter_context(mock.patch.object(SageMakerModelBackend, "delete_endpoint", delete_endpoint))
        stack.enter_context(mock.patch.object(SageMakerResponse, "update_endpoint", update_endpoint, create=True))
        stack.enter_context(mock.patch.object(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint))
        stack.callback(endpoints.shutdown)
        yield


def _arn(backend: SageMakerModelBackend, name: str) -> str:
    return FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)


class MotoCatalog:
    """The endpoints' view of moto's SageMaker and CloudWatch (mlrelay/local/endpoints.py `Catalog`)."""

    def __init__(self, account: str, region: str):
        self._account, self._region = account, region

    def _backend(self) -> SageMakerModelBackend:
        return sagemaker_backends[self._account][self._region]

    def endpoint_config(self, name: str) -> EndpointConfig:
        config = self._backend().endpoint_configs[name]
        return EndpointConfig(name, tuple(_variant(v) for v in config.production_variants))

    def model(self, name: str) -> ModelSpec:
        model = self._backend()._models[name]
        container = model.primary_container or (model.containers or [{}])[0]
        return ModelSpec(name, container.get("Image", ""), container.get("ModelDataUrl", ""),
                         dict(container.get("Environment") or {}), model.execution_role_arn,
                         container.get("Mode") == "MultiModel")

    def stored(self, endpoint: str) -> tuple[str, str] | None:
        found = self._backend().endpoints.get(endpoint)
        return (found.endpoint_config_name, found.endpoint_status) if found is not None else None

    def record(self, endpoint: str, state: EndpointState) -> None:
        found: Any = self._backend().endpoints.get(endpoint)
        if found is None:
            return
        found.endpoint_status, found.failure_reason = state.status, state.failure_reason
        found.endpoint_config_name, found.last_modified_time = state.config.name, state.modified
        found.production_variants = found._process_production_variants([v.source for v in state.config.variants])
        # moto's DescribeEndpoint answers every attribute that is not None, named in CamelCase
        found.pending_deployment_summary = state.pending
        found.last_deployment_config = state.last_deployment_config

    def alarm_state(self, alarm: str) -> str | None:
        from moto.cloudwatch.models import cloudwatch_backends

        found = cloudwatch_backends[self._account][self._region].alarms.get(alarm)
        return found.state_value if found is not None else None


def _variant(source: dict[str, Any]) -> Variant:
    serverless = source.get("ServerlessConfig")
    count = None if serverless else int(source.get("InitialInstanceCount") or 1)
    return Variant(source["VariantName"], source["ModelName"], float(source.get("InitialVariantWeight") or 1.0),
                   count, serverless, dict(source))
