"""How the CLI shows lineage: a version's record as a tree, the runs that read a table, a reproduction's metrics."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.tree import Tree

from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.metrics import SECTION
from chalicelib.shared.lineage_index import index_prefix, normalized

MAX_INDEX_DOCUMENT_BYTES = 16 * 1024 * 1024


def lineage_tree(record: VersionRecord) -> Tree:
    lineage = record.lineage
    tree = Tree(f"[bold]{record.model_name} v{record.version}[/] ({record.status}), run {record.run_id}")
    if not lineage:
        tree.add(f"registered before mlrelay kept lineage: config {_config(record.config)}, code {record.code.get('code_uri')}")
        return tree
    table = lineage["table"]
    node = tree.add(f"table {table['uri']}")
    for f in table["files"]:
        node.add(f"{f['key']}: version {f['version_id']}, ETag {f['etag']}, {f['size']:,} bytes")
    rows = table.get("rows") or {}
    if rows:
        node.add(f"rows: {rows['train']:,} train + {rows['validation']:,} validation")
    if table.get("header_sha256"):
        node.add(f"header sha256 {table['header_sha256']}")
    node.add(f"read from {table['pinned_uri']}" if table.get("pinned_uri") else "read where it was (not pinned)")
    code = lineage["code"]
    node = tree.add(f"code {code['uri']}")
    for f in code["files"]:
        node.add(f"version {f['version_id']}, {f['size']:,} bytes")
    node.add(f"sha256 {code['sha256']}")
    if code.get("pinned_uri"):
        node.add(f"read from {code['pinned_uri']}")
    images = tree.add("images")
    for role, image in lineage["images"].items():
        images.add(f"{role}: {image['uri']}" + (f" ({image['digest']})" if image.get("digest") else " (a tag: no digest recorded)"))
    tree.add(f"config {_config(lineage['config'])}")
    judged = f"v{lineage['judged_against']}" if lineage.get("judged_against") is not None else "no approved version"
    decision = tree.add(f"decision at registration: {lineage['decision']} by {lineage['decided_by']}, judged against {judged}")
    decision.add(lineage["summary"])
    for entry in record.history[1:]:  # what people decided since
        decision.add(f"{entry['at'][:19]} {entry['action']}: {entry['from']} → {entry['to']} by {entry['actor']}: {entry['reason']}")
    tree.add(f"evaluation {lineage['evaluation']}, baseline {lineage['baseline']}")
    artifact = lineage["model_artifact"]
    tree.add(f"model {artifact['uri']} (version {artifact['version_id']}, sha256 {artifact['sha256']})")
    tree.add(f"pipeline execution {lineage['pipeline_execution_arn']}")
    if lineage.get("reproduces"):
        tree.add(f"reproduces {lineage['reproduces']['model_name']} v{lineage['reproduces']['version']}")
    return tree


def sagemaker_differences(lineage: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """What SageMaker's lineage entities of a version (LineageTracking.read) lack or add against its record."""
    from chalicelib.aws.sagemaker_lineage import lineage_entities

    expected = {(association, artifact["ArtifactType"], artifact["Source"]["SourceUri"],
                 frozenset((t["SourceIdType"], t["Value"]) for t in artifact["Source"]["SourceTypes"]))
                for association, artifact in lineage_entities(lineage)}
    found = {(a["association"], a["artifact_type"], a["uri"], frozenset(a["ids"].items())) for a in read["associations"]}
    return ([f"missing in SageMaker: {kind} {uri} ({association})" for association, kind, uri, _ in sorted(expected - found)]
            + [f"only in SageMaker: {kind} {uri} ({association})" for association, kind, uri, _ in sorted(found - expected)])


def _config(config: dict[str, Any]) -> str:
    uri = config.get("uri") or f"s3://{config.get('bucket')}/{config.get('key')}"
    segment = config.get("segment")
    return f"{uri} version {config.get('version_id')}" + (f" (segment {segment['column']}={segment['value']})" if segment else "")


def runs_that_read(s3: Any, bucket: str, uri: str, version_id: str | None) -> list[dict[str, Any]]:
    """The lineage index's documents for `uri` (chalicelib/shared/lineage_index.py), oldest first; with `version_id`,
    only the runs that read that object version."""
    documents = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=index_prefix(uri)):
        for item in page.get("Contents", []):
            document = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read(MAX_INDEX_DOCUMENT_BYTES))
            if normalized(document["uri"]) != normalized(uri):
                continue  # another URI with the same digest prefix: never in practice, but not this table
            if version_id is None or any(f["version_id"] == version_id for f in document["files"]):
                documents.append(document)
    return sorted(documents, key=lambda d: d["at"])


def metric_comparison(original: dict[str, Any], reproduced: dict[str, Any]) -> list[dict[str, Any]]:
    """Each of the original's metrics beside the reproduction's: the same when within the original's bootstrap
    standard deviation."""
    section = SECTION.get(original.get("task", ""), "")
    rows = []
    for name, metric in original.get(section, {}).items():
        if not isinstance(metric, dict) or metric.get("value") is None:
            continue
        again = reproduced.get(section, {}).get(name, {}).get("value")
        deviation = float(metric.get("standard_deviation") or 0.0)
        rows.append({
            "metric": name, "original": metric["value"], "standard_deviation": deviation, "reproduced": again,
            "same": again is not None and abs(again - metric["value"]) <= deviation + 1e-12,
        })
    return rows


def comparison_table(rows: list[dict[str, Any]], original: int, reproduced: int) -> Table:
    """`metric_comparison`'s rows for people: the original version's metrics beside the reproduction's."""
    table = Table("metric", f"v{original}", "± std", f"v{reproduced} (reproduced)", "same", box=None, padding=(0, 2))
    for row in rows:
        table.add_row(row["metric"], f"{row['original']:.4f}", f"{row['standard_deviation']:.4f}",
                      "-" if row["reproduced"] is None else f"{row['reproduced']:.4f}", "yes" if row["same"] else "NO")
    return table


def readers_table(runs: list[dict[str, Any]]) -> Table:
    """`runs_that_read`'s documents for people, run and version ids wrapped, never cut to fit the terminal (to copy)."""
    table = Table("at", "read by", "model", "version", "run", "object versions", box=None, padding=(0, 2))
    for column in table.columns:
        column.overflow = "fold"
    for run in runs:
        kind = "training" if run["kind"] == "training" else f"inference ({run.get('mode', '')})"
        files = ", ".join(f["version_id"] for f in run["files"][:3]) + (", …" if len(run["files"]) > 3 else "")
        table.add_row(run["at"][:19], kind, run["model_name"], f"v{run['version']}", run["run_id"], files)
    return table
