"""`mlrelay demo`: the product's promises, shown on a fresh embedded stack.

Every check that fails is printed and makes the demo exit non-zero.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console

from mlrelay.demo.checks import Checks, wait_for
from mlrelay.demo.endpoints import endpoints
from mlrelay.demo.failure import injected_failure, resume_failed_run
from mlrelay.demo.lineage import lineage
from mlrelay.demo.monitoring import drifting_month, labels_arrive
from mlrelay.demo.own_code import own_code
from mlrelay.demo.predictions import predictions
from mlrelay.demo.sections import CATALOGUE_ROWS, broken_config, registry, train_first_model, train_noisy_model, upload_demo_data
from mlrelay.demo.segments import model_family
from mlrelay.local.stack import EmbeddedStack

LOG_DIR = Path(".mlrelay/logs")

__all__ = ["run_demo", "wait_for"]


def run_demo(console: Console, stage: str = "dev", state_dir: Path | None = None) -> bool:
    console.print("[bold]mlrelay demo[/] · starting the embedded AWS stack (moto server mode)…")
    with EmbeddedStack(stage=stage, log_dir=LOG_DIR, state_dir=state_dir) as stack:
        checks = Checks(console)
        _show_stack(console, stack)
        upload_demo_data(console, stack)
        first = train_first_model(console, checks, stack)
        if first is not None:
            train_noisy_model(console, checks, stack)
            registry(console, checks, stack)
            predictions(console, checks, stack, CATALOGUE_ROWS)
            drifting_month(console, checks, stack, CATALOGUE_ROWS)
            labels_arrive(console, checks, stack, CATALOGUE_ROWS)
            failed_run = injected_failure(console, checks, stack)
            if failed_run:
                resume_failed_run(console, checks, stack, failed_run)
            own_code(console, checks, stack, CATALOGUE_ROWS)
            model_family(console, checks, stack)
        broken_config(console, checks, stack)
        _alerts(console, stack)
        if first is not None:
            lineage(console, checks, stack)
            endpoints(console, checks, stack)
        _permissions(console, checks, stack)
    if checks.failed:
        console.print(f"\n[bold red]Demo failed[/]: {len(checks.failed)} of {checks.passed + len(checks.failed)} checks.")
        return False
    console.print(f"\n[bold green]Demo passed[/]: {checks.passed} checks.")
    console.print("Next: `mlrelay local up` keeps a stack running; `mlrelay init NAME --template ...`, "
                  "`mlrelay submit NAME`, `mlrelay runs list`, `mlrelay models list` and `mlrelay console` (the web "
                  "console) use it.")
    return True


def _permissions(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    """Every call of every section was evaluated against its role's policy, as IAM would on AWS."""
    stack.settle()
    census = stack.iam.census if stack.iam is not None else None
    allowed = sum(len(pairs) for pairs in census.allowed.values()) if census else 0
    denials = census.denials if census else []
    console.print(f"\n[bold]Permissions[/]: {allowed} (action, resource) pairs allowed to "
                  f"{len(census.allowed) if census else 0} roles, each by the template's own policy")
    checks.check(not denials, "no call was denied" if not denials else f"{len(denials)} call(s) denied: {denials[0].message}")


def _show_stack(console: Console, stack: EmbeddedStack) -> None:
    applied = stack.applied
    console.print(f"\n[bold]1. The stack[/] on {stack.info.endpoint}, from infra/resources.json")
    kinds = Counter(kind.split("::")[-1] for kind in applied.created.values())
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    console.print(f"   created {summary}, and {len(stack.info.functions)} functions running app.py in process")
    console.print(f"   logs: {LOG_DIR}/functions.log (functions), {LOG_DIR}/pipelines/ (pipeline steps)")
    for logical_id, reason in applied.skipped.items():
        console.print(f"   [dim]not emulated: {logical_id} ({reason})[/]")


def _alerts(console: Console, stack: EmbeddedStack) -> None:
    console.print("\n[bold]13. Alerts[/] the runs produced (mlrelay local alerts): Slack, and the same by SNS")
    for received in stack.slack.messages:
        console.print(f"   {received.message.get('text', '')}")
