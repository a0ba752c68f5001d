"""The hosts behind one endpoint configuration: one warm host per production variant, started at a deploy, or at
the first request after a durable stack's restart. A variant acts as its model's execution role when it reads S3."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrelay.local.endpoint_process import (
    HostLoadError,
    HostProcess,
    HostRequestError,
    HostTimeoutError,
    ModelSpec,
    stage,
    stage_target,
)
from mlrelay.local.sagemaker_jobs import JobStorage
from mlrelay.local.sagemaker_runner import JobIdentity


@dataclass(frozen=True)
class Variant:
    name: str
    model_name: str
    weight: float
    instance_count: int | None  # None for a serverless variant
    serverless: dict[str, Any] | None
    source: dict[str, Any]  # the ProductionVariant as the endpoint configuration holds it


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    variants: tuple[Variant, ...]

    @property
    def instances(self) -> int:
        return sum(v.instance_count or 1 for v in self.variants)


@dataclass(frozen=True)
class HostContext:
    """What every host of the stack shares: where it works, how it reads S3, as whom."""

    work_dir: Path
    log_dir: Path
    s3_client: Callable[[], Any]
    read_object: Callable[[str, str], bytes] | None
    identity: Callable[[], JobIdentity]  # the stack's, once IAM is enforced


class TargetMissingError(LookupError):
    """A multi-model endpoint's TargetModel has no object under the model's prefix (or the role may not read it)."""


class VariantHost:
    def __init__(self, endpoint: str, config: str, variant: Variant, spec: ModelSpec, context: HostContext):
        self.variant, self.spec, self._context = variant, spec, context
        self._directory = context.work_dir / "endpoints" / endpoint / config / variant.name
        self.log_path = context.log_dir / "endpoints" / endpoint / f"{config}-{variant.name}.log"
        self._process: HostProcess | None = None
        self._lock = threading.Lock()
        self._targets: dict[str, Path] = {}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Stage and start the host (once); HostLoadError says why it could not."""
        with self._lock:
            if self._process is not None:
                return
            identity = self._context.identity()
            with identity.acting_as(self.spec.role_arn):
                staged = stage(self.spec, self._directory, self._storage(identity), self.log_path)
            program = self.spec.environment.get("SAGEMAKER_PROGRAM", "inference.py")
            environment = {**self.spec.environment, **identity.environment(self.spec.role_arn)}
            process = HostProcess(staged, program, environment, self._directory, self.log_path)
            process.start()
            self._process = process

    def invoke(self, body: bytes, content_type: str, accept: str, target: str, timeout_seconds: float) -> tuple[bytes, Any]:
        """(the output body, the host's answer); HostRequestError, HostTimeoutError, TargetMissingError."""
        self.start()
        assert self._process is not None
        meta: dict[str, Any] = {"content_type": content_type, "accept": accept}
        if self.spec.multi_model:
            meta["model_dir"] = str(self._target(target))
        answer, output = self._process.request(meta, body, timeout_seconds)
        return output, answer

    def _target(self, target: str) -> Path:
        with self._lock:
            if target not in self._targets:
                identity = self._context.identity()
                try:
                    with identity.acting_as(self.spec.role_arn):
                        self._targets[target] = stage_target(self.spec.model_data_url, target, self._directory,
                                                             self._storage(identity))
                except Exception as err:
                    raise TargetMissingError(target) from err
            return self._targets[target]

    def _storage(self, identity: JobIdentity) -> JobStorage:
        return JobStorage(self._context.s3_client(), self._context.read_object, identity.may_read)

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.stop()


class Fleet:
    """The variants of one endpoint configuration, each with its host."""

    def __init__(self, endpoint: str, config: EndpointConfig, models: dict[str, ModelSpec], context: HostContext):
        self.config = config
        self.hosts = {v.name: VariantHost(endpoint, config.name, v, models[v.model_name], context) for v in config.variants}

    def start(self) -> None:
        """Every variant's host up; HostLoadError naming the variant whose container failed (the others are ended)."""
        for name, host in self.hosts.items():
            try:
                host.start()
            except HostLoadError as err:
                self.stop()
                raise HostLoadError(f"The primary container for production variant {name} did not pass the ping health "
                                    f"check: {err}. Please check CloudWatch logs for this endpoint.") from err

    def stop(self) -> None:
        for host in self.hosts.values():
            host.stop()


__all__ = ["EndpointConfig", "Fleet", "HostContext", "HostLoadError", "HostRequestError", "HostTimeoutError",
           "TargetMissingError", "Variant", "VariantHost"]
