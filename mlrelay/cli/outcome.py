"""What an uploaded training config became: a run (and how it ended), or the trigger's rejection report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from chalicelib.intake.plan import ERROR_REPORT_SUFFIX
from chalicelib.shared.naming import training_run_id
from mlrelay.cli.output import console
from mlrelay.runs import RunDetail, RunNotFoundError, show_run
from mlrelay.tables import steps_table


@dataclass(frozen=True)
class Uploaded:
    bucket: str
    key: str
    version_id: str | None
    etag: str

    @property
    def run_id(self) -> str:
        return training_run_id(self.bucket, self.key, self.version_id, self.etag)


def wait_for_outcome(
    client: Callable[[str], Any], machines: dict[str, str], uploaded: Uploaded, timeout_seconds: float
) -> tuple[str, Any] | None:
    """("run", RunDetail) once the run has ended, ("rejected" or "trigger_failed", report), or None after the timeout.

    Shows the run's current state while it runs: a training run on AWS takes minutes."""
    deadline = time.monotonic() + timeout_seconds
    started = time.monotonic()
    with console.status(f"waiting for the trigger to handle s3://{uploaded.bucket}/{uploaded.key}…") as status:
        while time.monotonic() < deadline:
            outcome, current = _outcome(client, machines, uploaded)
            if outcome is not None:
                return outcome
            if current is not None:
                status.update(f"run {uploaded.run_id}: {current} ({time.monotonic() - started:.0f} s)")
            time.sleep(0.5)
    return None


def _outcome(client: Callable[[str], Any], machines: dict[str, str], uploaded: Uploaded) -> tuple[tuple[str, Any] | None, str | None]:
    try:
        detail = show_run(client("stepfunctions"), machines, uploaded.run_id)
    except RunNotFoundError:
        detail = None
    if detail is not None:
        if detail.summary.status != "RUNNING":
            return ("run", detail), None
        return None, detail.steps[-1].name if detail.steps else "starting"
    s3 = client("s3")
    try:
        report = json.loads(s3.get_object(Bucket=uploaded.bucket, Key=uploaded.key + ERROR_REPORT_SUFFIX)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None, None
    # An older upload of the same key may have left a report; only this version's counts.
    if report.get("version_id") != uploaded.version_id:
        return None, None
    return ("trigger_failed" if report.get("trigger_failed") else "rejected", report), None


def print_outcome(outcome: tuple[str, Any]) -> None:
    """Prints the run or the rejection; exits 1 unless a run succeeded."""
    kind, value = outcome
    if kind == "run":
        _print_run(value)
        if value.summary.status != "SUCCEEDED":
            raise typer.Exit(1)
        return
    if kind == "trigger_failed":
        console.print(f"[red]the trigger failed handling {value['config']}[/]: {value['trigger_failed']}")
        console.print(value["what_to_do"])
        raise typer.Exit(1)
    console.print(f"[red]rejected[/]: {len(value['problems'])} problem(s); report at {value['config']}{ERROR_REPORT_SUFFIX}")
    for problem in value["problems"]:
        console.print(f"  {problem['path'] or '(file)'}: {problem['message']}")
    raise typer.Exit(1)


def _print_run(detail: RunDetail) -> None:
    console.print(f"run {detail.summary.run_id}: {detail.summary.status}")
    console.print(steps_table(detail))
    output = detail.output or {}
    registration, decision = output.get("registration") or {}, output.get("decision") or {}
    if registration:
        console.print(f"[bold]{detail.input.get('model_name')} v{registration.get('version')}: {registration.get('status')}[/]")
    for reason in decision.get("reasons", []):
        console.print(f"  {reason}")
    if detail.error:
        console.print(f"[red]{detail.error}[/]: {detail.cause or ''}")
        console.print(f"details: `mlrelay runs show {detail.summary.run_id}`")
