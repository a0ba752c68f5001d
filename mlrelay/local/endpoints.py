"""Real-time endpoints on the embedded stack: their deploys, as SageMaker runs them, and their invocations.

CreateEndpoint leaves the endpoint Creating while its variants' hosts load
their models, then InService, or Failed with the failing line. UpdateEndpoint
is a blue/green deploy (mlrelay/local/endpoint_deploy.py): Updating while the
new fleet loads and traffic shifts; a fleet that cannot load, or an alarm in
ALARM while it bakes, rolls back to the old configuration (RollingBack, then
InService with a FailureReason). What moto stores is reached through a
`Catalog` (mlrelay/local/emulated/sagemaker_endpoints.py), so a durable stack
keeps every status, and an InService endpoint answers after a restart (its
host starts on the first request).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from mlrelay.local.endpoint_deploy import DeploymentPlan, goes_to_green, pick_variant, plan
from mlrelay.local.endpoint_fleet import (
    EndpointConfig,
    Fleet,
    HostContext,
    HostLoadError,
    HostRequestError,
    HostTimeoutError,
    TargetMissingError,
)
from mlrelay.local.endpoint_process import ModelSpec

INVOCATION_TIMEOUT_SECONDS = 60  # InvokeEndpoint's limit for the container's answer
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_SERVERLESS_PAYLOAD_BYTES = 4 * 1024 * 1024
SETTLING = ("Creating", "Updating", "RollingBack")


class Catalog(Protocol):
    """What moto holds: configurations, models, stored endpoints, alarms; and where a status change is written."""

    def endpoint_config(self, name: str) -> EndpointConfig: ...
    def model(self, name: str) -> ModelSpec: ...
    def stored(self, endpoint: str) -> tuple[str, str] | None: ...  # (configuration name, status)
    def record(self, endpoint: str, state: EndpointState) -> None: ...
    def alarm_state(self, alarm: str) -> str | None: ...


class _Closing(Exception):
    """The stack stops: a deploy's wait ends, leaving the endpoint as it is (a durable stack's next start settles it)."""


class InvocationError(Exception):
    """InvokeEndpoint's error, as SageMaker's runtime returns it."""

    def __init__(self, code: str, status: int, message: str, original: tuple[int, str] | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.original = code, status, message, original


@dataclass(frozen=True)
class Invocation:
    body: bytes
    content_type: str
    variant: str
    load_seconds: float | None  # a multi-model target's model_fn time on its first request, else None


@dataclass
class EndpointState:
    """What DescribeEndpoint reports, kept in step with moto's endpoint object."""

    status: str
    config: EndpointConfig
    failure_reason: str | None = None
    pending: dict[str, Any] | None = None  # PendingDeploymentSummary
    last_deployment_config: dict[str, Any] | None = None
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))


class _Endpoint:
    def __init__(self, name: str, state: EndpointState, fleet: Fleet | None):
        self.name, self.state, self.blue = name, state, fleet
        self.green: Fleet | None = None
        self.green_share = 0.0
        self.requests = 0  # requests routed since the last shift (the deterministic split counts them)
        self.deleted = False
        self.history: list[str] = [state.status]


class LocalEndpoints:
    def __init__(self, catalog: Catalog, context: HostContext, account: str, region: str, time_scale: float = 1.0,
                 on_change: Callable[[], None] = lambda: None):
        """`on_change`: after each status change (a durable stack saves SageMaker's state then)."""
        self._catalog, self._context, self._account, self._region = catalog, context, account, region
        self.time_scale = time_scale  # the deploys' waits, on the stack's clock
        self.invocation_timeout_seconds: float = INVOCATION_TIMEOUT_SECONDS
        self._on_change = on_change
        self._lock = threading.Condition()
        self._endpoints: dict[str, _Endpoint] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sagemaker-endpoint")
        self._pending: set[Future[Any]] = set()
        self._closing = threading.Event()

    # --- the API's side (called by the emulated SageMaker) ------------------------------------------------------
    def created(self, name: str, config_name: str) -> None:
        config = self._catalog.endpoint_config(config_name)
        endpoint = _Endpoint(name, EndpointState("Creating", config, pending=_pending(config)), None)
        with self._lock:
            self._endpoints[name] = endpoint
        self._record(endpoint)
        self._submit(self._create, endpoint)

    def update(self, name: str, config_name: str, deployment_config: dict[str, Any] | None) -> None:
        """Start a blue/green update (the API checked the endpoint is InService and the configuration exists)."""
        config = self._catalog.endpoint_config(config_name)
        steps = plan(deployment_config, config.instances)
        endpoint = self._endpoint(name)
        if endpoint is None:
            raise LookupError(name)
        endpoint.state.status, endpoint.state.failure_reason = "Updating", None
        endpoint.state.pending, endpoint.state.last_deployment_config = _pending(config), deployment_config
        self._record(endpoint)
        self._submit(self._update, endpoint, config, steps)

    def status(self, name: str) -> str | None:
        endpoint = self._endpoint(name)
        return endpoint.state.status if endpoint else None

    def deleted(self, name: str) -> None:
        with self._lock:
            endpoint = self._endpoints.pop(name, None)
        if endpoint is not None:
            endpoint.deleted = True
            for fleet in (endpoint.blue, endpoint.green):
                if fleet is not None:
                    fleet.stop()

    # --- InvokeEndpoint --------------------------------------------------------------------------------------------
    def invoke(self, name: str, body: bytes, content_type: str, accept: str, target: str = "") -> Invocation:
        endpoint = self._endpoint(name)
        if endpoint is None or endpoint.state.status not in ("InService", "Updating", "RollingBack"):
            raise InvocationError("ValidationError", 400, f"Endpoint {name} of account {self._account} not found.")
        fleet = self._route(endpoint)
        variant = pick_variant(endpoint.requests, [(v.name, v.weight) for v in fleet.config.variants])
        host = fleet.hosts[variant]
        limit = MAX_SERVERLESS_PAYLOAD_BYTES if host.variant.serverless else MAX_PAYLOAD_BYTES
        if len(body) > limit:
            raise InvocationError("ValidationError", 400, f"Request payload of {len(body)} bytes is larger than the "
                                  f"{limit // 1024 // 1024} MB an endpoint accepts: send fewer records per request, "
                                  "or use batch transform or an asynchronous endpoint")
        if host.spec.multi_model and not target:
            raise InvocationError("ValidationError", 400, f"Endpoint {name} is a multi-model endpoint: the request must "
                                  "name a TargetModel (the model archive's path under the model's S3 prefix)")
        try:
            output, answer = host.invoke(body, content_type, accept, target, self.invocation_timeout_seconds)
        except TargetMissingError as err:
            bucket, _, key = (host.spec.model_data_url.rstrip("/") + "/" + target).removeprefix("s3://").partition("/")
            raise InvocationError("ValidationError", 400, f"Failed to download model data(bucket: {bucket}, key: {key}). "
                                  "Please ensure that there is an object located at the URL and that the role passed to "
                                  "CreateModel has permissions to download the model.") from err
        except HostTimeoutError as err:
            raise InvocationError("ModelError", 424, "Your invocation timed out while waiting for a response from container "
                                  "primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the "
                                  "issue, and try again.") from err
        except (HostRequestError, HostLoadError) as err:
            message = str(err)
            raise InvocationError("ModelError", 424, f'Received server error (500) from primary with message "{message}". '
                                  f"See https://{self._region}.console.aws.amazon.com/cloudwatch/home?region={self._region}"
                                  f"#logEventViewer:group=/aws/sagemaker/Endpoints/{name} in account {self._account} for "
                                  "more information.", (500, message)) from err
        return Invocation(output, accept, variant, answer.get("load_seconds"))

    def _route(self, endpoint: _Endpoint) -> Fleet:
        with self._lock:
            number = endpoint.requests
            endpoint.requests += 1
            green, share, blue = endpoint.green, endpoint.green_share, endpoint.blue
        if green is not None and goes_to_green(number, share):
            return green
        if blue is None:
            raise InvocationError("ValidationError", 400, f"Endpoint {endpoint.name} of account {self._account} not found.")
        return blue

    # --- waiting ---------------------------------------------------------------------------------------------------
    def wait_settled(self, name: str, timeout_seconds: float = 120) -> str:
        """The endpoint's status once it is no longer Creating, Updating or RollingBack; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_seconds
        self._endpoint(name)  # one a durable stack kept, known from here on
        with self._lock:
            while True:
                endpoint = self._endpoints.get(name)
                if endpoint is None or endpoint.state.status not in SETTLING:
                    return endpoint.state.status if endpoint else "Deleted"
                if not self._lock.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise TimeoutError(f"endpoint {name} still {endpoint.state.status} after {timeout_seconds:g} s")

    def history(self, name: str) -> list[str]:
        """Every status the endpoint has had since this stack started it, oldest first."""
        endpoint = self._endpoints.get(name)
        return list(endpoint.history) if endpoint else []

    def host_pids(self, name: str) -> list[int]:
        """The pids of the endpoint's running hosts (blue, then green during an update)."""
        endpoint = self._endpoints.get(name)
        fleets = [f for f in (endpoint.blue, endpoint.green) if f is not None] if endpoint else []
        return [pid for fleet in fleets for host in fleet.hosts.values() if (pid := host.pid) is not None]

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def wait_idle(self, timeout_seconds: float = 300) -> None:
        deadline = time.monotonic() + timeout_seconds
        with self._lock:
            while self._pending:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"endpoint deploys still running after {timeout_seconds:g} s")
                self._lock.wait(max(0.01, deadline - time.monotonic()))

    def close(self) -> None:
        """End every deploy's waits: a stack that stops does not sit out a canary's baking period."""
        self._closing.set()

    def shutdown(self) -> None:
        """End every deploy's waits and every host (the stack stops)."""
        self._closing.set()
        self._pool.shutdown(wait=True)
        with self._lock:
            endpoints = list(self._endpoints.values())
        for endpoint in endpoints:
            for fleet in (endpoint.blue, endpoint.green):
                if fleet is not None:
                    fleet.stop()

    # --- deploys (each in the pool) --------------------------------------------------------------------------------
    def _create(self, endpoint: _Endpoint) -> None:
        fleet = Fleet(endpoint.name, endpoint.state.config, self._models(endpoint.state.config), self._context)
        try:
            fleet.start()
        except HostLoadError as err:
            self._set(endpoint, "Failed", str(err))
            return
        if endpoint.deleted:
            fleet.stop()
            return
        endpoint.blue = fleet
        self._set(endpoint, "InService", None)

    def _update(self, endpoint: _Endpoint, config: EndpointConfig, steps: DeploymentPlan) -> None:
        models = self._models(config)
        unreadable = self._unreadable_alarm(steps, models)
        if unreadable:
            self._set(endpoint, "InService", f"Update to endpoint configuration {config.name} was rolled back: {unreadable}")
            return
        green = Fleet(endpoint.name, config, models, self._context)
        started = time.monotonic()
        try:
            green.start()
        except HostLoadError as err:
            self._set(endpoint, "InService", f"Update to endpoint configuration {config.name} was rolled back: {err}")
            return
        for shift in steps.shifts:
            with self._lock:
                endpoint.green, endpoint.green_share, endpoint.requests = green, shift.green_share, 0
            try:
                tripped = self._bake(shift.bake_seconds, steps, started)
            except _Closing:
                green.stop()
                raise
            if tripped:
                self._roll_back(endpoint, green, config, tripped)
                return
        with self._lock:
            blue, endpoint.blue, endpoint.green, endpoint.requests = endpoint.blue, green, None, 0
            endpoint.state.config = config
        self._closing.wait(steps.termination_wait_seconds * self.time_scale)  # the old fleet is kept this long
        if blue is not None:
            blue.stop()
        self._set(endpoint, "InService", None)

    def _unreadable_alarm(self, steps: DeploymentPlan, models: dict[str, ModelSpec]) -> str | None:
        """Why SageMaker cannot watch an auto-rollback alarm: it reads them with the models' execution roles, which need
        cloudwatch:DescribeAlarms on each (the deployment guardrails' auto-rollback page); None when it can."""
        from mlrelay.local.sagemaker_jobs import JobFailedError

        identity = self._context.identity()
        for alarm in steps.alarms:
            arn = f"arn:aws:cloudwatch:{self._region}:{self._account}:alarm:{alarm}"
            for model in models.values():
                try:
                    identity.may_act(model.role_arn, "cloudwatch:DescribeAlarms", arn)
                except JobFailedError as err:
                    return f"the execution role {model.role_arn} cannot read the auto-rollback alarm {alarm}: {err}"
        return None

    def _bake(self, seconds: float, steps: DeploymentPlan, started: float) -> str | None:
        """Watch the alarms for `seconds` (scaled); why the update must roll back, or None."""
        end = time.monotonic() + seconds * self.time_scale
        while True:
            for alarm in steps.alarms:
                if self._catalog.alarm_state(alarm) == "ALARM":
                    return f"the CloudWatch alarm {alarm} went into ALARM state"
            if steps.timeout_seconds and time.monotonic() - started > steps.timeout_seconds * self.time_scale:
                return f"the deployment ran past MaximumExecutionTimeoutInSeconds ({steps.timeout_seconds:g} s)"
            if self._closing.wait(min(0.05, max(0.0, end - time.monotonic()))):
                raise _Closing
            if time.monotonic() >= end:
                return None

    def _roll_back(self, endpoint: _Endpoint, green: Fleet, config: EndpointConfig, why: str) -> None:
        self._set(endpoint, "RollingBack", f"Update to endpoint configuration {config.name} is rolling back: {why}")
        with self._lock:
            endpoint.green, endpoint.green_share, endpoint.requests = None, 0.0, 0
        green.stop()
        self._set(endpoint, "InService", f"Update to endpoint configuration {config.name} was rolled back: {why}")

    # --- state -----------------------------------------------------------------------------------------------------
    def _set(self, endpoint: _Endpoint, status: str, reason: str | None) -> None:
        with self._lock:
            endpoint.state.status, endpoint.state.failure_reason = status, reason
            if status not in SETTLING:
                endpoint.state.pending = None
        self._record(endpoint)

    def _record(self, endpoint: _Endpoint) -> None:
        with self._lock:
            endpoint.state.modified = datetime.now(UTC)
            if endpoint.history[-1] != endpoint.state.status:
                endpoint.history.append(endpoint.state.status)
            self._lock.notify_all()
        if not endpoint.deleted:
            self._catalog.record(endpoint.name, endpoint.state)
            self._on_change()

    def _endpoint(self, name: str) -> _Endpoint | None:
        """The endpoint, also one a durable stack kept from before its restart (its host starts on first use)."""
        with self._lock:
            if name in self._endpoints:
                return self._endpoints[name]
        stored = self._catalog.stored(name)
        if stored is None:
            return None
        config = self._catalog.endpoint_config(stored[0])
        # a deploy the stopped stack was running ended with it: Creating failed, an update kept the old fleet
        status, reason = stored[1], None
        if status == "Creating":
            status, reason = "Failed", "the embedded stack stopped while the endpoint was being created: create it again"
        elif status in SETTLING:
            status, reason = "InService", "the embedded stack stopped during the update: the endpoint kept its configuration"
        fleet = Fleet(name, config, self._models(config), self._context) if status == "InService" else None
        endpoint = _Endpoint(name, EndpointState(status, config, reason), fleet)
        with self._lock:
            endpoint = self._endpoints.setdefault(name, endpoint)
        if status != stored[1]:
            self._record(endpoint)
        return endpoint

    def _models(self, config: EndpointConfig) -> dict[str, ModelSpec]:
        return {v.model_name: self._catalog.model(v.model_name) for v in config.variants}

    def _submit(self, work: Callable[..., None], endpoint: _Endpoint, *args: Any) -> None:
        def guarded() -> None:
            try:
                work(endpoint, *args)
            except _Closing:
                return
            except Exception as err:  # a bug here must not leave the endpoint Creating or Updating for ever
                logging.getLogger(__name__).exception("the deploy of endpoint %s failed unexpectedly", endpoint.name)
                self._set(endpoint, "Failed", f"the embedded stack could not deploy the endpoint: {err}")

        with self._lock:
            future = self._pool.submit(guarded)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
            self._lock.notify_all()


def _pending(config: EndpointConfig) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"EndpointConfigName": config.name, "StartTime": now, "ProductionVariants": [
        {"VariantName": v.name, "VariantStatus": [{"Status": "Creating", "StartTime": now}],
         **({"DesiredServerlessConfig": v.serverless} if v.serverless else {"DesiredInstanceCount": v.instance_count})}
        for v in config.variants]}
