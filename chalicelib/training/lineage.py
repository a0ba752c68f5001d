"""A model version's lineage: the exact table, code, images and config it came from, and the decision on it.

Written once, when the version is registered, into its item in the models table (VersionRecord.lineage); later
decisions go to its history, never here. The table and code are the run's pinned copies (chalicelib/shared/pinning.py),
described by their manifests: every source file's version id, ETag and size.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.errors import NotFoundError
from chalicelib.shared.lineage_index import index_key
from chalicelib.shared.pinning import is_pinned, manifest_uri, read_manifest
from chalicelib.shared.pipeline_runs import baseline_uri, run_prefix
from chalicelib.shared.port_roles import TrainingPorts
from chalicelib.training.requests import RegisterStep

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_FILES_IN_RECORD = 100  # a table's first files in the models table's item (400 KB at most); its manifest has them all


def lineage_record(ports: TrainingPorts, request: RegisterStep, status: str, artifact: dict[str, str]) -> dict[str, Any]:
    parameters = ports.pipelines.parameters(request.pipeline_execution_arn)
    decision = request.decision
    table = _input(ports, parameters["InputDataUri"], parameters.get("InputDataVersion", "unknown"))
    table["rows"] = _rows(ports, request)
    code = _input(ports, parameters["CodeUri"], parameters.get("CodeVersion", "unknown"))
    evaluation = baseline_uri(ports.artifact_bucket, request.model_name, request.run_id)
    reproduces = request.config.reproduces
    return {
        "table": table,
        "code": code,
        "images": {"training": _image(parameters["TrainingImage"]), "serving": _image(request.code["serving_image"])},
        "config": {"uri": request.config.uri, "version_id": request.config.version_id,
                   "segment": request.config.segment.model_dump() if request.config.segment else None},
        "run_id": request.run_id,
        "pipeline_execution_arn": request.pipeline_execution_arn,
        "judged_against": decision.get("baseline_version"),
        "decision": status,
        "decided_by": "nobody yet: it waits for a person (mlrelay models approve or reject)" if status == "PendingManualApproval"
        else "mlrelay (the training run's rules)",
        "summary": decision["summary"],
        "evaluation": f"{evaluation}metrics.json",
        "baseline": evaluation,
        "model_artifact": artifact,
        "reproduces": {"model_name": reproduces.model_name, "version": reproduces.version} if reproduces else None,
        "recorded_at": datetime.now(UTC).isoformat(),
    }


def write_index_entry(ports: TrainingPorts, model_name: str, version: int, lineage: dict[str, Any]) -> None:
    """The version under its table's URI in the lineage index (chalicelib/shared/lineage_index.py)."""
    table = lineage["table"]
    files = table["files"]
    if table.get("file_count", len(files)) > len(files):  # the record keeps the first ones: the manifest has them all
        files = read_manifest(ports.s3, table["pinned_uri"]).manifest()["files"]
    ports.s3.put_json(ports.artifact_bucket, index_key(table["uri"], lineage["run_id"]), {
        "uri": table["uri"], "kind": "training", "model_name": model_name, "version": version, "run_id": lineage["run_id"],
        "files": files, "identity": table["identity"], "at": lineage["recorded_at"],
    })


def _input(ports: TrainingPorts, uri: str, identity: str) -> dict[str, Any]:
    """A pinned input described by its manifest; an input the run read where it was, by its URI and identity only."""
    if not is_pinned(uri, ports.artifact_bucket):
        return {"uri": uri, "pinned_uri": None, "identity": identity, "files": [], "file_count": None, "size": None,
                "header_sha256": "", "sha256": None}
    pinned = read_manifest(ports.s3, uri)
    files = pinned.manifest()["files"]
    return {"uri": pinned.source, "pinned_uri": pinned.uri, "manifest": manifest_uri(uri), "identity": pinned.identity,
            "files": files[:MAX_FILES_IN_RECORD], "file_count": len(files), "size": pinned.size,
            "header_sha256": pinned.header_sha256, "sha256": pinned.sha256 or None}



def _rows(ports: TrainingPorts, request: RegisterStep) -> dict[str, int] | None:
    """The rows the Split step trained and validated on (its schema.json); None from a run whose Split did not count."""
    key = f"{run_prefix(request.model_name, request.run_id)}/split/schema/schema.json"
    try:
        rows: dict[str, int] | None = ports.s3.read_json(ports.artifact_bucket, key, MAX_DOCUMENT_BYTES).get("rows")
    except NotFoundError:
        return None
    return rows


def _image(uri: str) -> dict[str, str | None]:
    """An image by its URI, and its digest when the URI names one (a tag is resolved by the registry at pull time)."""
    return {"uri": uri, "digest": uri.rpartition("@")[2] if "@sha256:" in uri else None}
