"""Model versions registered before package groups were the stage's own (`mlrelay-<stage>-<model>`), moved there.

A stage deployed before then registered each model in a group named after the model alone; the stage's roles
may now read and change only `mlrelay-<stage>-*` groups. `mlrelay models migrate-registry` registers each such
version again, in order, in the stage's group (same container, status, metadata, metrics and description),
and points the models table at it; the old packages are left as they are. `mlrelay deploy` refuses to update a
stack whose models table still names old groups (`old_group_refusals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.shared.naming import package_group_name

COPIED = ("ModelPackageDescription", "ModelApprovalStatus", "InferenceSpecification", "CustomerMetadataProperties", "ModelMetrics")


class MigrationError(RuntimeError):
    """A model's versions cannot be moved as they are; the message says which and why."""


def group_of(model_package_arn: str) -> str:
    """arn:...:model-package/<group>/<version> -> <group>."""
    return model_package_arn.rsplit(":model-package/", 1)[-1].rsplit("/", 1)[0]


def old_versions(versions: ModelVersions, stage: str) -> dict[str, list[VersionRecord]]:
    """Model name -> its versions (oldest first) whose package is not in the stage's group."""
    found: dict[str, list[VersionRecord]] = {}
    for name in versions.model_names():
        old = [v for v in versions.versions(name) if group_of(v.model_package_arn) != package_group_name(stage, name)]
        if old:
            found[name] = sorted(old, key=lambda v: v.version)
    return found


def old_group_refusals(versions: ModelVersions, stage: str) -> list[str]:
    """One refusal if the models table names packages outside the stage's groups (the new roles cannot read them)."""
    old = old_versions(versions, stage)
    if not old:
        return []
    named = ", ".join(f"{name} ({len(records)})" for name, records in sorted(old.items()))
    return [f"the models table names {sum(len(r) for r in old.values())} model versions registered in groups outside "
            f"mlrelay-{stage}-* ({named}), which this version's roles may not read: run "
            f"`mlrelay --stage {stage} models migrate-registry` first, then deploy"]


def migrate(versions: ModelVersions, sagemaker: Any, stage: str, say: Callable[[str], None]) -> int:
    """Move every old version into its stage's group; returns how many were moved. Safe to run again."""
    moved = 0
    for name, records in sorted(old_versions(versions, stage).items()):
        group = package_group_name(stage, name)
        _ensure_group(sagemaker, group, name)
        approved = versions.approved(name)
        for record in records:
            arn = _register_again(sagemaker, group, record)
            versions.put(replace(record, model_package_arn=arn))
            if approved is not None and approved.version == record.version:
                versions.set_pointer(name, replace(record, model_package_arn=arn), record.created_at)
            say(f"{name} v{record.version}: {record.model_package_arn} → {arn}")
            moved += 1
    return moved


def _ensure_group(sagemaker: Any, group: str, model_name: str) -> None:
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription=f"mlrelay model {model_name}")
    except sagemaker.exceptions.ClientError as err:
        if "already exists" not in str(err):
            raise MigrationError(f"cannot create model package group {group}: {err}") from err


def _register_again(sagemaker: Any, group: str, record: VersionRecord) -> str:
    # The next version number of the stage's group must be the record's: training reads a new version's number
    # from its package ARN, so the group's numbering has to continue the table's.
    pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
    held = sum(len(page["ModelPackageSummaryList"]) for page in pages)
    if held + 1 != record.version:
        raise MigrationError(
            f"{group} holds {held} versions, so {record.model_name} v{record.version} would be registered as "
            f"v{held + 1}: its numbering would no longer be the models table's; move its versions by hand")
    old = sagemaker.describe_model_package(ModelPackageName=record.model_package_arn)
    copied = {key: old[key] for key in COPIED if old.get(key)}
    return str(sagemaker.create_model_package(ModelPackageGroupName=group, **copied)["ModelPackageArn"])
