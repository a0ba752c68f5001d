"""A person's decision on a model version, from `mlrelay models approve|reject|rollback` or from the registry.

Both paths end in the same change: the models table (status, history, approved pointer), the SageMaker
registry, and one notice. The registry's "SageMaker Model Package State Change" event can arrive more than
once, and also arrives for changes mlrelay made itself: a version already in the announced status changes
nothing, and each status change is a conditional write, so a decision takes effect once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.approvals.plan import APPROVED, REJECTED, Action, DecisionError, DecisionPlan, plan_decision
from chalicelib.aws.errors import AwsError
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.shared import settings
from chalicelib.shared.artifacts import ArtifactChangedError, check_artifact
from chalicelib.shared.deployments import start_deployment
from chalicelib.shared.messages import ModelDecided
from chalicelib.shared.naming import model_of_package_group
from chalicelib.shared.observability import logger
from chalicelib.shared.port_roles import ApprovalsPorts
from chalicelib.shared.ports import aws_ports

REGISTRY_EVENT = "SageMaker Model Package State Change"
REGISTRY_ACTOR = "the SageMaker model registry (Studio, console or API)"


class DecisionRequest(BaseModel):
    """What `mlrelay models approve|reject|rollback` sends; `actor` is the caller's identity ARN."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    model_name: str
    version: int | None = None
    reason: str = Field(min_length=1, max_length=1000)
    actor: str = Field(min_length=1, max_length=2048)
    source: Literal["mlrelay", "registry"] = "mlrelay"


class PackageState(BaseModel):
    ModelPackageGroupName: str
    ModelPackageVersion: int
    ModelApprovalStatus: str
    ApprovalDescription: str = ""


class RegistryStateChange(BaseModel):
    """The EventBridge event SageMaker sends when a model package's status changes (only the fields used)."""

    id: str
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: PackageState


def handle_model_decision(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "detail-type" in event:
        return follow_registry(RegistryStateChange.model_validate(event), aws_ports())
    return decide(DecisionRequest.model_validate(event), aws_ports())


def follow_registry(event: RegistryStateChange, ports: ApprovalsPorts) -> dict[str, Any]:
    """An approval or rejection made in the registry moves mlrelay's pointer the same way, once."""
    state = event.detail
    model_name = model_of_package_group(settings.stage(), state.ModelPackageGroupName)
    if model_name is None:  # the rule matches this stage's groups only; another stage's or team's group is not ours
        return {"outcome": "unchanged", "message": f"{state.ModelPackageGroupName} is not a package group of this stage"}
    action = {APPROVED: "approve", REJECTED: "reject"}.get(state.ModelApprovalStatus)
    if action is None:
        return {"outcome": "unchanged", "message": f"{state.ModelApprovalStatus} needs no decision"}
    record = ports.models.version(model_name, state.ModelPackageVersion)
    now = ports.registry.status(record.model_package_arn) if record else state.ModelApprovalStatus
    if now != state.ModelApprovalStatus:  # events come late and out of order: the registry's present status decides
        return {"outcome": "unchanged", "message": f"v{state.ModelPackageVersion} of {model_name} is {now} in the registry "
                f"now; this {state.ModelApprovalStatus} event tells of an earlier change"}
    request = DecisionRequest(
        action=action, model_name=model_name, version=state.ModelPackageVersion, source="registry",
        reason=state.ApprovalDescription or f"set to {state.ModelApprovalStatus} in the registry", actor=REGISTRY_ACTOR,
    )
    return decide(request, ports)


def decide(request: DecisionRequest, ports: ApprovalsPorts) -> dict[str, Any]:
    records = {r.version: r for r in ports.models.versions(request.model_name)}
    if not records:
        return _answer("refused", f"no model named {request.model_name!r}; `mlrelay models list` shows the names")
    approved = ports.models.approved(request.model_name)
    try:
        plan = plan_decision(
            request.action, request.model_name, {v: r.status for v, r in records.items()},
            approved.version if approved else None, request.version,
        )
        if plan.unchanged:
            return _answer("unchanged", plan.unchanged)
        _require_artifact(plan, records, ports)
    except DecisionError as err:
        return _answer("refused", str(err))
    return _apply(plan, records, request, ports)


def _require_artifact(plan: DecisionPlan, records: dict[int, VersionRecord], ports: ApprovalsPorts) -> None:
    """Inference must be able to load the version it is pointed at, and load the bytes it was registered with:
    refuse one whose model.tar.gz is gone or was written over (as inference itself would refuse it)."""
    if not plan.moves_pointer or plan.pointer_after is None or plan.action == "reject":
        return
    record = records[plan.pointer_after]
    artifact = ports.registry.container(record.model_package_arn)["ModelDataUrl"]
    if not ports.s3.exists(artifact):
        raise DecisionError(
            f"v{plan.pointer_after} of {plan.model_name} cannot be used: its model artifact {artifact} is gone "
            "(deleted or expired); choose another version, or retrain"
        )
    pinned = record.artifact  # a version registered before artifacts were recorded has nothing to compare
    if pinned and ports.s3.version_of(pinned["uri"]) != pinned["version_id"]:
        try:
            check_artifact(plan.model_name, plan.pointer_after, pinned, ports.s3.fingerprint(pinned["uri"]))
        except ArtifactChangedError as err:
            raise DecisionError(f"v{plan.pointer_after} of {plan.model_name} cannot be used: {err}") from err


def _apply(plan: DecisionPlan, records: dict[int, VersionRecord], request: DecisionRequest, ports: ApprovalsPorts) -> dict[str, Any]:
    now = datetime.now(UTC)
    for version, before, after in ((c.version, c.before, c.after) for c in plan.changes):
        entry = {"at": now.isoformat(), "actor": request.actor, "action": plan.action, "from": before, "to": after,
                 "reason": request.reason, "source": request.source}
        if not ports.models.set_status(plan.model_name, version, before, after, entry):
            return _answer("unchanged", f"v{version} of {plan.model_name} changed meanwhile; `mlrelay models show` has its state")
        already_in_registry = request.source == "registry" and version == request.version
        if before != after and not already_in_registry:
            ports.registry.set_status(records[version].model_package_arn, after, f"{request.actor}: {request.reason}")
    deployment = ""
    if plan.moves_pointer:
        target = records[plan.pointer_after] if plan.pointer_after is not None else None
        ports.models.set_pointer(plan.model_name, target, now.isoformat())
        if target is not None:  # its endpoint follows (chalicelib/training/deploy.py): one deploy run per decision
            deployment = _move_endpoint(ports, plan, target, request, now)
    status = APPROVED if plan.action != "reject" else REJECTED
    ports.notifications.send(ModelDecided(
        model_name=plan.model_name, action=plan.action, version=plan.version, status=status, actor=request.actor,
        reason=request.reason, source=request.source, approved_before=plan.pointer_before, approved_after=plan.pointer_after,
        occurred_at=now,
    ))
    logger.info("model decision applied", extra={"model": plan.model_name, "action": plan.action, "version": plan.version,
                                                  "approved": plan.pointer_after, "source": request.source})
    in_use = f"v{plan.pointer_after}" if plan.pointer_after is not None else "no version"
    return _answer("decided", f"{plan.model_name}: {plan.action} v{plan.version} done; inference now uses {in_use}{deployment}",
                   approved_before=plan.pointer_before, approved_after=plan.pointer_after)


def _move_endpoint(ports: ApprovalsPorts, plan: DecisionPlan, target: VersionRecord, request: DecisionRequest,
                   now: datetime) -> str:
    """Start the deploy run; the decision stands whatever happens to it (a failure to start is said, not raised: the
    pointer moved already, and a retry of this decision would change nothing)."""
    try:
        started = start_deployment(ports, target, f"{plan.action} by {request.actor}", now.isoformat(), plan.action)
    except (AwsError, ValueError) as err:
        logger.warning("the endpoint was not moved", extra={"model": plan.model_name, "version": target.version, "error": str(err)})
        return f"; its endpoint was NOT moved ({err}): approve v{target.version} again once that is fixed"
    return f"; its endpoint is being moved to v{target.version} (run {started['run_id']})" if started["started"] else ""


def _answer(outcome: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"outcome": outcome, "message": message, **fields}
