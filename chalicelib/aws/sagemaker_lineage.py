"""A version's lineage as SageMaker ML Lineage Tracking entities, so that Studio and `sagemaker.lineage` see it.

The version is a context (`mlrelay-<stage>-<model>-v<N>`, type ModelPackage, its source the package's ARN); the
table, the code bundle and the training image are artifacts that ContributedTo it, the serving image (when it is
another) one AssociatedWith it, and it Produced the model artifact. An artifact is found by its source before one is made, and a
context by its name, so a retried registration adds nothing twice.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.aws.errors import AwsError, NotFoundError, translated

_UNSAFE = re.compile(r"[^a-zA-Z0-9]+")
_ALREADY = ("already exists", "AlreadyExists")


def context_name(stage: str, model_name: str, version: int) -> str:
    """A context's name: letters, digits and single hyphens, at most 120 characters."""
    return _UNSAFE.sub("-", f"mlrelay-{stage}-{model_name}").strip("-")[:110] + f"-v{version}"


def lineage_entities(lineage: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(association to the version's context, CreateArtifact's Source and ArtifactType) of every artifact it names."""
    table, code, images, model = lineage["table"], lineage["code"], lineage["images"], lineage["model_artifact"]
    table_ids = (_s3_ids(table["files"][0]) if len(table["files"]) == 1 else []) or [_custom(table["identity"])]
    code_ids = [*(_s3_ids(code["files"][0])[1:] if code["files"] else []),
                *([_custom(f"sha256:{code['sha256']}")] if code.get("sha256") else [])]
    serving = [] if images["serving"]["uri"] == images["training"]["uri"] else [  # a pair is associated once
        ("AssociatedWith", {"Source": {"SourceUri": images["serving"]["uri"], "SourceTypes": _image_ids(images["serving"])},
                            "ArtifactType": "Image"})]
    return [
        ("ContributedTo", {"Source": {"SourceUri": table["uri"], "SourceTypes": table_ids}, "ArtifactType": "DataSet"}),
        ("ContributedTo", {"Source": {"SourceUri": code["uri"], "SourceTypes": code_ids}, "ArtifactType": "Code"}),
        ("ContributedTo", {"Source": {"SourceUri": images["training"]["uri"], "SourceTypes": _image_ids(images["training"])},
                           "ArtifactType": "Image"}),
        *serving,
        ("Produced", {"Source": {"SourceUri": model["uri"], "SourceTypes": [
            {"SourceIdType": "S3Version", "Value": model["version_id"]}, _custom(f"sha256:{model['sha256']}")]},
            "ArtifactType": "Model"}),
    ]


def _s3_ids(file: dict[str, Any]) -> list[dict[str, str]]:
    return [{"SourceIdType": "S3ETag", "Value": file["etag"]}, {"SourceIdType": "S3Version", "Value": file["version_id"]}]


def _custom(value: str) -> dict[str, str]:
    return {"SourceIdType": "Custom", "Value": value}


def _image_ids(image: dict[str, Any]) -> list[dict[str, str]]:
    return [_custom(image["digest"])] if image.get("digest") else []


class LineageTracking:
    def __init__(self, stage: str, sagemaker_client: Any):
        self._stage = stage
        self._client = sagemaker_client

    def record(self, model_name: str, version: int, package_arn: str, lineage: dict[str, Any]) -> str:
        """The version's context and its associations (chalicelib/training/lineage.py's record); its ARN."""
        name = context_name(self._stage, model_name, version)
        context = self._context(name, package_arn, lineage)
        for association, artifact in lineage_entities(lineage):
            arn = self._artifact(artifact)
            source, destination = (context, arn) if association == "Produced" else (arn, context)
            self._associate(source, destination, association)
        return context

    def read(self, model_name: str, version: int) -> dict[str, Any]:
        """The version's context and what is associated with it, as SageMaker answers (`mlrelay models lineage --sagemaker`)."""
        name = context_name(self._stage, model_name, version)
        with translated(f"cannot read the lineage context {name}"):
            context = self._client.describe_context(ContextName=name)
            summaries = [
                *self._associations(DestinationArn=context["ContextArn"]), *self._associations(SourceArn=context["ContextArn"]),
            ]
        found = []
        for summary in summaries:
            other = summary["SourceArn"] if summary["DestinationArn"] == context["ContextArn"] else summary["DestinationArn"]
            with translated(f"cannot read the lineage artifact {other}"):
                artifact = self._client.describe_artifact(ArtifactArn=other)
            found.append({"association": summary["AssociationType"], "artifact_type": artifact.get("ArtifactType", ""),
                          "uri": artifact["Source"]["SourceUri"],
                          "ids": {t["SourceIdType"]: t["Value"] for t in artifact["Source"].get("SourceTypes", [])}})
        return {"context": context["ContextName"], "context_arn": context["ContextArn"],
                "source": context.get("Source", {}).get("SourceUri", ""), "associations": found}

    def _associations(self, **side: str) -> list[dict[str, Any]]:
        return [s for page in self._client.get_paginator("list_associations").paginate(**side)
                for s in page["AssociationSummaries"]]

    def _context(self, name: str, package_arn: str, lineage: dict[str, Any]) -> str:
        try:
            with translated(f"cannot make the lineage context {name}"):
                return str(self._client.create_context(
                    ContextName=name, ContextType="ModelPackage", Source={"SourceUri": package_arn},
                    Description=lineage["summary"][:1024],
                    Properties={"run_id": lineage["run_id"], "decision": lineage["decision"]},
                )["ContextArn"])
        except AwsError as err:
            if not any(marker in str(err) for marker in _ALREADY):
                raise
        with translated(f"cannot read the lineage context {name}"):
            return str(self._client.describe_context(ContextName=name)["ContextArn"])

    def _artifact(self, artifact: dict[str, Any]) -> str:
        """The artifact of this source, made when there is none; one a concurrent registration just made (a family's
        segments share their table, code and image) is found again."""
        if found := self._find_artifact(artifact):
            return found
        try:
            with translated(f"cannot make the lineage artifact of {artifact['Source']['SourceUri']}"):
                return str(self._client.create_artifact(**artifact)["ArtifactArn"])
        except AwsError as err:
            if not any(marker in str(err) for marker in _ALREADY) or not (found := self._find_artifact(artifact)):
                raise
            return found

    def _find_artifact(self, artifact: dict[str, Any]) -> str | None:
        source = artifact["Source"]
        with translated(f"cannot list the lineage artifacts of {source['SourceUri']}"):
            for page in self._client.get_paginator("list_artifacts").paginate(SourceUri=source["SourceUri"]):
                for summary in page["ArtifactSummaries"]:
                    if summary.get("ArtifactType") == artifact["ArtifactType"] and _same_ids(summary["Source"], source):
                        return str(summary["ArtifactArn"])
        return None

    def _associate(self, source: str, destination: str, association: str) -> None:
        try:
            with translated(f"cannot associate {source} with {destination}"):
                self._client.add_association(SourceArn=source, DestinationArn=destination, AssociationType=association)
        except AwsError as err:
            if isinstance(err, NotFoundError) or not any(marker in str(err) for marker in _ALREADY):
                raise


def _same_ids(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def ids(source: dict[str, Any]) -> set[tuple[str, str]]:
        return {(t["SourceIdType"], t["Value"]) for t in source.get("SourceTypes", [])}

    return ids(found) == ids(wanted)
