"""Starting a deploy run: a version that became the approved one, to its endpoint (chalicelib/training/deploy.py).

Both ways a version becomes the approved one start it: a training run promoting it, and a person's decision or the
registry's event (chalicelib/approvals/).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import read_config
from chalicelib.config.schema import ModelConfig
from chalicelib.shared.messages import DeployRequested
from chalicelib.shared.naming import deploy_run_id
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import HasDeployMachine, HasModels, HasS3, HasWorkflows


class DeployPorts(HasDeployMachine, HasModels, HasS3, HasWorkflows, Protocol):
    """What starting a deployment uses."""


class ReadPorts(HasModels, HasS3, Protocol):
    """What reading a version's serving settings uses."""


def start_deployment(ports: DeployPorts, record: VersionRecord, reason: str, *identity: str) -> dict[str, Any]:
    """Start the deploy run for the version `record` is, once per `identity` (the run or decision that asked); nothing
    when neither its config nor an earlier deployment of the model asks for an endpoint."""
    if serving_of(ports, record) is None:
        return {"started": False, "run_id": ""}
    model_name, version = record.model_name, record.version
    run_id = deploy_run_id(model_name, version, *identity)
    request = DeployRequested(run_id=run_id, model_name=model_name, version=version, reason=reason,
                              requested_at=datetime.now(UTC))
    started = ports.workflows.start(ports.deploy_machine, run_id, request.model_dump(mode="json"))
    logger.info("deployment started", extra={"model_name": model_name, "version": version, "run_id": run_id,
                                             "already_existed": started.already_existed})
    return {"started": True, "run_id": run_id}


def config_of(ports: ReadPorts, record: VersionRecord) -> ModelConfig:
    ref = record.config
    return read_config(ports.s3, ref["bucket"], ref["key"], ref.get("version_id"))


def serving_of(ports: ReadPorts, record: VersionRecord, config: ModelConfig | None = None) -> dict[str, Any] | None:
    """The version's own serving settings; for a version trained before the model had them (a rollback to it), the
    settings its endpoint was last deployed with; None when the model is not served."""
    if config is None and record.config:
        config = config_of(ports, record)
    if config is not None and config.serving.endpoint is not None:
        return config.serving.model_dump(mode="json")
    earlier = ports.models.deployment(record.model_name)
    return dict(earlier["serving"]) if earlier else None
