"""Retraining a version from exactly its recorded inputs: the run `mlrelay models reproduce` and the demo start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.model_versions import VersionRecord


class NotReproducibleError(ValueError):
    """The version has no pinned inputs to retrain from."""


def start_reproduction(sfn: Any, state_machines: dict[str, str], record: VersionRecord) -> tuple[str, str]:
    """Start a training run of `record`'s config version on its pinned table and code; (run id, execution ARN)."""
    from chalicelib.shared.messages import ConfigRef, Reproduction, TrainingRequested
    from chalicelib.shared.naming import execution_name

    table, code = record.lineage.get("table", {}), record.lineage.get("code", {})
    if not table.get("pinned_uri") or not code.get("pinned_uri"):
        raise NotReproducibleError(
            f"{record.model_name} v{record.version} was trained before mlrelay pinned its inputs (or on a table it could not "
            "copy): it cannot be retrained from exactly what it read; `mlrelay models lineage` shows what is known"
        )
    now = datetime.now(UTC)
    ref = ConfigRef.model_validate(record.config).model_copy(update={"reproduces": Reproduction(
        model_name=record.model_name, version=record.version, table_uri=table["pinned_uri"], code_uri=code["pinned_uri"])})
    run_id = execution_name("reproduce", f"{record.model_name}-v{record.version}", record.model_name, str(record.version),
                            now.isoformat())
    request = TrainingRequested(run_id=run_id, model_name=record.model_name, config=ref, requested_at=now)
    machine = next((arn for logical_id, arn in state_machines.items() if logical_id.startswith("Training")), None)
    if machine is None:
        raise NotReproducibleError("the stack has no training state machine: is it an mlrelay stack?")
    started = sfn.start_execution(stateMachineArn=machine, name=run_id, input=request.model_dump_json())
    return run_id, str(started["executionArn"])
