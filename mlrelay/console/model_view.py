"""What the models pages show, read as `mlrelay models list|show` read it: the models table (ModelVersions), the
version's config for its approval rule, and the registry for lineage."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from chalicelib.config.metrics import metric_values
from mlrelay.console.stage import Stage


@dataclass(frozen=True)
class ModelRow:
    name: str
    task: str
    versions: int
    approved: int | None
    latest_decision: str
    segment: str  # country=DE for a family's model
    family: str


@dataclass(frozen=True)
class ApprovalRule:
    metric: str
    threshold: float | None
    lower_is_better: bool
    mode: str


@dataclass
class ModelPage:
    name: str
    records: list[VersionRecord]
    approved: int | None
    rule: ApprovalRule | None
    rule_problem: str = ""
    endpoint: str | None = None
    family_members: list[ModelRow] = field(default_factory=list)

    @property
    def pending(self) -> list[VersionRecord]:
        return [record for record in self.records if record.status == "PendingManualApproval"]


def versions_of(stage: Stage) -> ModelVersions:
    return ModelVersions(stage.info.outputs["ModelsTableName"], stage.client("dynamodb"))


def model_rows(stage: Stage) -> tuple[list[ModelRow], list[VersionRecord]]:
    """Every model, and every version waiting for a person, oldest first."""
    from chalicelib.config.schema import segment_slug

    rows: list[ModelRow] = []
    pending: list[VersionRecord] = []
    for name, (records, approved) in versions_of(stage).every_model().items():
        latest = records[-1]
        segment = latest.config.get("segment") or {}
        family = name.removesuffix(f"-{segment_slug(segment['value'])}") if segment else ""
        rows.append(ModelRow(name, latest.task, len(records), approved, latest.decision.get("summary", ""),
                             f"{segment['column']}={segment['value']}" if segment else "", family))
        pending.extend(r for r in records if r.status == "PendingManualApproval")
    return rows, sorted(pending, key=lambda r: r.created_at)


def model_page(stage: Stage, name: str) -> ModelPage | None:
    """None when no model or family has the name."""
    from mlrelay.endpoints_view import endpoint_line

    versions = versions_of(stage)
    records = sorted(versions.versions(name), key=lambda r: r.version)
    if not records:
        members = [row for row in model_rows(stage)[0] if row.family == name]
        return ModelPage(name, [], None, None, family_members=members) if members else None
    page = ModelPage(name, records, _approved(versions, name), None)
    from chalicelib.aws.errors import AwsError
    from chalicelib.config.parsing import ConfigError

    try:
        page.rule = approval_rule(stage, records[-1])
    except (AwsError, ConfigError, KeyError) as err:  # the chart is drawn without the threshold, and says why
        page.rule_problem = f"the approval rule is unknown: {err}"
    page.endpoint = endpoint_line(versions, stage.client("sagemaker"), name)
    return page


def approval_rule(stage: Stage, record: VersionRecord) -> ApprovalRule:
    """The rule the newest version was judged by: its config's approval metric, threshold and mode."""
    from chalicelib.aws.s3 import S3Objects
    from chalicelib.config.parsing import read_config

    ref = record.config
    config = read_config(S3Objects(stage.client("s3")), ref["bucket"], ref["key"], ref.get("version_id"))
    return ApprovalRule(config.metric, config.threshold, config.lower_is_better, config.approval.mode)


def metric_series(records: list[VersionRecord]) -> dict[str, list[float | None]]:
    """Each metric's value per version (None where a version has not it), in version order."""
    values = [metric_values(record.metrics) for record in records]
    names = sorted({name for found in values for name in found})
    return {name: [found.get(name) for found in values] for name in names}


def _approved(versions: ModelVersions, name: str) -> int | None:
    """The version inference uses: the model's pointer, as `mlrelay models list` reads it."""
    record = versions.approved(name)
    return record.version if record else None


def lineage_text(record: VersionRecord) -> str:
    """The version's lineage as `mlrelay lineage show` prints it (the same tree, as plain text)."""
    import io

    from rich.console import Console

    from mlrelay.lineage_view import lineage_tree

    console = Console(record=True, width=160, file=io.StringIO(), color_system=None)
    console.print(lineage_tree(record))
    return console.export_text()
