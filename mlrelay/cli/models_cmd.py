"""`mlrelay models list|show|approve|reject|rollback`: the model registry, and people's decisions on it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

if TYPE_CHECKING:  # imported by the commands that use it, so that `mlrelay --help` starts fast
    from chalicelib.aws.sagemaker import ModelRegistry

app = typer.Typer(help="Registered model versions, their metrics and decisions; approve, reject or roll back by hand.",
                  no_args_is_help=True)
BASELINES_SHOWN = 5  # the newest versions' baselines: one S3 read each
REASON = typer.Option(..., "--reason", "-r", help="Why: kept in the version's history and sent with the notice.")


@app.command("list")
def list_command() -> None:
    """Every model name with its version count and the approved version."""
    from rich.table import Table

    from chalicelib.aws.model_versions import ModelVersions
    from chalicelib.config.schema import segment_slug
    from mlrelay.tables import judged_on

    info, client = connect()
    models = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb")).every_model()
    if not models:
        console.print("no models yet: submit a training config with `mlrelay submit FOLDER_OR_CONFIG`")
        return
    table = Table("model", "task", "versions", "approved", "judged on", "latest decision", box=None, padding=(0, 2))
    families: dict[str, list[str]] = {}
    for name, (records, approved_version) in models.items():  # a family's segments sort together, under its name
        approved = next((r for r in records if r.version == approved_version), None)
        latest = records[-1]
        table.add_row(
            name, latest.task, str(len(records)), f"v{approved.version}" if approved else "none",
            judged_on(approved) if approved else "", latest.decision.get("summary", ""),
        )
        if segment := latest.config.get("segment"):
            family = name.removesuffix(f"-{segment_slug(segment['value'])}")
            families.setdefault(family, []).append(f"{segment['column']}={segment['value']}")
    console.print(table)
    for family, segments in families.items():  # a line per family, not a column: the table is wide enough already
        console.print(f"{family}: a family of {len(segments)} segment models ({', '.join(segments[:8])}"
                      f"{', …' if len(segments) > 8 else ''}): `mlrelay models show {family}`")


def segment_of(config_ref: dict[str, Any]) -> str:
    """`country=DE` for a model of a family (its config reference names the segment), else empty."""
    segment = config_ref.get("segment") or {}
    return f"{segment['column']}={segment['value']}" if segment else ""


@app.command()
def show(name: str = typer.Argument(..., help="A model name from `mlrelay models list`.")) -> None:
    """One model: each version with its registry status, metrics, run and the reasons for its decision."""
    from chalicelib.aws.model_versions import ModelVersions
    from chalicelib.aws.sagemaker import ModelRegistry
    from mlrelay.endpoints_view import endpoint_line
    from mlrelay.tables import missing_values, versions_table

    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    records = versions.versions(name)
    if not records:
        _show_family(versions, name)
        return
    approved = versions.approved(name)
    console.print(f"[bold]{name}[/]: approved version {f'v{approved.version}' if approved else 'none'}")
    if (serving := endpoint_line(versions, client("sagemaker"), name)) is not None:
        console.print(serving)
    console.print(versions_table(records, approved.version if approved else None))
    s3, registry = client("s3"), ModelRegistry(info.stage, client("sagemaker"))
    for record in sorted(records, key=lambda r: r.version):
        console.print(f"v{record.version} ({record.status}):")
        if record.version > max(r.version for r in records) - BASELINES_SHOWN:
            console.print(f"   {baseline_summary(s3, registry, record.model_package_arn)}")
        if (missing := missing_values(record.metrics)) is not None:
            console.print(f"   {missing}")
        for reason in record.decision.get("reasons", []):
            console.print(f"   {reason}")
        for entry in record.history:
            change = f"{entry['from']} → {entry['to']}" if entry.get("from") else entry["to"]
            console.print(f"   {entry['at'][:19]}  {entry['action']}: {change} by {entry['actor']}: {entry['reason']}")


def _show_family(versions: Any, family: str) -> None:
    """A family's name: one line per segment's model."""
    from rich.table import Table

    members = [n for n in sorted(versions.model_names()) if n.startswith(f"{family}-")]
    latest = {n: max(versions.versions(n), key=lambda r: r.version) for n in members}
    members = [n for n in members if segment_of(latest[n].config)]
    if not members:
        fail(f"no model named {family!r}; `mlrelay models list` shows the names")
    table = Table("segment", "model", "versions", "approved", "latest decision", box=None, padding=(0, 2))
    for member in members:
        approved = versions.approved(member)
        table.add_row(segment_of(latest[member].config), member, str(len(versions.versions(member))),
                      f"v{approved.version}" if approved else "none", latest[member].decision.get("summary", ""))
    console.print(f"[bold]{family}[/]: a family of {len(members)} segment models (`mlrelay models show MODEL` for one)")
    console.print(table)


def baseline_summary(s3: Any, registry: ModelRegistry, model_package_arn: str) -> str:
    """One line on a version's monitoring baseline (beside its registered model artifact): its size and its top SHAP
    features."""
    from botocore.exceptions import ClientError

    from chalicelib.aws.errors import AwsError
    from chalicelib.shared.pipeline_runs import baseline_beside

    try:
        baseline = baseline_beside(registry.container(model_package_arn)["ModelDataUrl"])
    except (AwsError, ValueError) as err:
        return f"baseline: unknown ({err})"
    bucket, prefix = baseline.removeprefix("s3://").split("/", 1)
    try:
        statistics = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}statistics.json")["Body"].read())
        attributions = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}attributions.json")["Body"].read())
    except ClientError:
        return "baseline: none (trained before mlrelay kept one, or its run's outputs are gone)"
    top = ", ".join(f"{name} {value:.3g}" for name, value in list(attributions["features"].items())[:3])
    return (f"baseline: {len(statistics['features'])} features of {statistics['dataset']['item_count']:,} rows "
            f"({baseline}); top SHAP features: {top}")


@app.command()
def approve(
    name: str = typer.Argument(..., help="The model name."),
    version: int = typer.Argument(..., help="The version to approve (a PendingManualApproval or Rejected one)."),
    reason: str = REASON,
) -> None:
    """Approve a version: the registry marks it Approved and the next inference runs use it."""
    _decide("approve", name, version, reason)


@app.command()
def reject(
    name: str = typer.Argument(..., help="The model name."),
    version: int = typer.Argument(..., help="The version to reject."),
    reason: str = REASON,
) -> None:
    """Reject a version. If inference used it, it falls back to the newest other Approved version."""
    _decide("reject", name, version, reason)


@app.command()
def rollback(
    name: str = typer.Argument(..., help="The model name."),
    to: int | None = typer.Option(None, "--to", help="The Approved version to go back to (default: the one before the current)."),
    reason: str = REASON,
) -> None:
    """Go back to an earlier Approved version; the current one is marked Rejected. A version whose artifact is gone is refused."""
    _decide("rollback", name, to, reason)


def _decide(action: str, name: str, version: int | None, reason: str) -> None:
    """Calls the stack's decide_model function (on AWS, mlrelay-<stage>-decide_model) as the caller's identity."""
    from mlrelay.operator_actions import ActionRefusedError, decide

    info, client = connect()
    try:
        decided = decide(info, client, action, name, version, reason)
    except ActionRefusedError as err:
        fail(str(err))
    console.print(("[green]✓[/] " if decided.outcome == "decided" else "") + decided.message)


@app.command("migrate-registry")
def migrate_registry() -> None:
    """Register again, in the stage's own package groups (mlrelay-<stage>-<model>), every model version a stage
    deployed before those groups registered elsewhere; the models table then names the new packages.
    Run it before deploying this version over such a stage (deploy refuses until then); safe to run again."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.registry_migration import MigrationError, migrate

    info, client = connect()
    versions = ModelVersions(info.outputs["ModelsTableName"], client("dynamodb"))
    try:
        moved = migrate(versions, client("sagemaker"), info.stage, console.print)
    except MigrationError as err:
        fail(str(err))
    console.print(f"{moved} model version(s) moved" if moved else "nothing to move: every version is in its stage's group")
