"""SageMaker ML Lineage Tracking, which moto lacks: artifacts, contexts and their associations.

CreateArtifact, DescribeArtifact, ListArtifacts, CreateContext, DescribeContext, ListContexts, AddAssociation and
ListAssociations, with SageMaker's shapes: an artifact's ARN ends in a hash of its source (the Service Authorization
Reference's artifact/${HashOfArtifactSource}: mlrelay/local/iam/resources.py computes the same one to authorize the
call), a second artifact with the same source or a second context with the same name is refused, an association
names two entities that exist, and one made twice is kept once. They live on moto's SageMaker backend, so a durable
stack keeps them with it (emulated/state/sagemaker.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from mlrelay.local.iam.resources import artifact_hash

_LINEAGE = "mlrelay_lineage"  # on moto's backend: {"artifacts": {arn: ...}, "contexts": {name: ...}, "associations": [...]}


def _store(response: SageMakerResponse) -> dict[str, Any]:
    backend = response.sagemaker_backend
    return backend.__dict__.setdefault(_LINEAGE, {"artifacts": {}, "contexts": {}, "associations": []})


def _arn(response: SageMakerResponse, kind: str, name: str) -> str:
    backend = response.sagemaker_backend
    return f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:{kind}/{name}"


def create_artifact(self: SageMakerResponse) -> ActionResult:
    source = self._get_param("Source") or {}
    if not source.get("SourceUri"):
        raise ValidationError("Source.SourceUri is required")
    arn = _arn(self, "artifact", artifact_hash(source))
    artifacts = _store(self)["artifacts"]
    if arn in artifacts:
        raise ValidationError(f"Artifact {arn} already exists with this source")
    now = datetime.now(UTC).isoformat()
    artifacts[arn] = {"ArtifactArn": arn, "ArtifactName": self._get_param("ArtifactName") or "", "Source": source,
                      "ArtifactType": self._get_param("ArtifactType") or "", "Properties": self._get_param("Properties") or {},
                      "CreationTime": now, "LastModifiedTime": now}
    return ActionResult({"ArtifactArn": arn})


def describe_artifact(self: SageMakerResponse) -> ActionResult:
    arn = self._get_param("ArtifactArn")
    artifact = _store(self)["artifacts"].get(arn)
    if artifact is None:
        raise ResourceNotFound(f"Artifact {arn} does not exist")
    return ActionResult(artifact)


def list_artifacts(self: SageMakerResponse) -> ActionResult:
    uri, kind = self._get_param("SourceUri"), self._get_param("ArtifactType")
    found = [{k: a[k] for k in ("ArtifactArn", "ArtifactName", "Source", "ArtifactType", "CreationTime", "LastModifiedTime")}
             for a in _store(self)["artifacts"].values()
             if (not uri or a["Source"]["SourceUri"] == uri) and (not kind or a["ArtifactType"] == kind)]
    return ActionResult({"ArtifactSummaries": found})


def create_context(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("ContextName")
    contexts = _store(self)["contexts"]
    if not name or not self._get_param("ContextType"):
        raise ValidationError("ContextName and ContextType are required")
    if name in contexts:
        raise ValidationError(f"Context {name} already exists")
    now = datetime.now(UTC).isoformat()
    contexts[name] = {"ContextName": name, "ContextArn": _arn(self, "context", name), "Source": self._get_param("Source") or {},
                      "ContextType": self._get_param("ContextType"), "Description": self._get_param("Description") or "",
                      "Properties": self._get_param("Properties") or {}, "CreationTime": now, "LastModifiedTime": now}
    return ActionResult({"ContextArn": contexts[name]["ContextArn"]})


def describe_context(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("ContextName")
    context = _store(self)["contexts"].get(name)
    if context is None:
        raise ResourceNotFound(f"Context {name} does not exist")
    return ActionResult(context)


def list_contexts(self: SageMakerResponse) -> ActionResult:
    uri = self._get_param("SourceUri")
    found = [c for c in _store(self)["contexts"].values() if not uri or c["Source"].get("SourceUri") == uri]
    return ActionResult({"ContextSummaries": found})


def _entity(store: dict[str, Any], arn: str) -> tuple[str, str]:
    """(type, name) of an artifact or context ARN that exists."""
    if arn in store["artifacts"]:
        return store["artifacts"][arn]["ArtifactType"], store["artifacts"][arn]["ArtifactName"]
    context = next((c for c in store["contexts"].values() if c["ContextArn"] == arn), None)
    if context is None:
        raise ResourceNotFound(f"{arn} does not exist")
    return context["ContextType"], context["ContextName"]


def add_association(self: SageMakerResponse) -> ActionResult:
    store = _store(self)
    source, destination = self._get_param("SourceArn"), self._get_param("DestinationArn")
    (source_type, source_name), (destination_type, destination_name) = _entity(store, source), _entity(store, destination)
    if not any(a["SourceArn"] == source and a["DestinationArn"] == destination for a in store["associations"]):
        store["associations"].append({
            "SourceArn": source, "DestinationArn": destination, "SourceType": source_type, "DestinationType": destination_type,
            "SourceName": source_name, "DestinationName": destination_name,
            "AssociationType": self._get_param("AssociationType") or "AssociatedWith", "CreationTime": datetime.now(UTC).isoformat(),
        })
    return ActionResult({"SourceArn": source, "DestinationArn": destination})


def list_associations(self: SageMakerResponse) -> ActionResult:
    source, destination, kind = self._get_param("SourceArn"), self._get_param("DestinationArn"), self._get_param("AssociationType")
    found = [a for a in _store(self)["associations"]
             if (not source or a["SourceArn"] == source) and (not destination or a["DestinationArn"] == destination)
             and (not kind or a["AssociationType"] == kind)]
    return ActionResult({"AssociationSummaries": found})


_ACTIONS = (create_artifact, describe_artifact, list_artifacts, create_context, describe_context, list_contexts,
            add_association, list_associations)


@contextmanager
def patched() -> Iterator[None]:
    with ExitStack() as stack:
        for action in _ACTIONS:
            stack.enter_context(mock.patch.object(SageMakerResponse, action.__name__, action, create=True))
        yield
