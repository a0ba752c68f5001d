"""`mlrelay demo`: the product's first promise, shown on the embedded stack.

Drops a valid config and a broken one, redelivers the valid one's S3 event
as S3 may, and checks what happened. Every check that fails is printed and
makes the demo exit non-zero.
"""

from __future__ import annotations

import json
from collections import Counter
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from mlrelay.local.events import s3_object_created
from mlrelay.local.stack import ACCOUNT_ID, PROJECT_ROOT, EmbeddedStack
from mlrelay.runs import RunDetail, list_runs, show_run

EXAMPLES = PROJECT_ROOT / "examples" / "configs"
VALID_CONFIG = EXAMPLES / "packaging-type.json"
BROKEN_CONFIG = EXAMPLES / "broken-packaging-type.json"
TRAIN_PREFIX = "configs/train/"
FUNCTION_LOG = Path(".mlrelay/logs/functions.log")
T = TypeVar("T")


@dataclass
class Checks:
    console: Console
    failed: list[str] = field(default_factory=list)
    passed: int = 0

    def check(self, ok: bool, text: str) -> bool:
        if ok:
            self.passed += 1
            self.console.print(f"   [green]✓[/] {text}")
        else:
            self.failed.append(text)
            self.console.print(f"   [red]✗ {text}[/]")
        return ok


def wait_for(probe: Callable[[], T | None], timeout_seconds: float = 60, interval: float = 0.2) -> T | None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    return None


def run_demo(console: Console, stage: str = "dev") -> bool:
    console.print("[bold]mlrelay demo[/] · starting the embedded AWS stack (moto server mode)…")
    with EmbeddedStack(stage=stage, function_log=FUNCTION_LOG) as stack:
        checks = Checks(console)
        _show_stack(console, stack)
        bucket = stack.info.outputs["ConfigBucketName"]
        _valid_config(console, checks, stack, bucket)
        _broken_config(console, checks, stack, bucket)
    if checks.failed:
        console.print(f"\n[bold red]Demo failed[/]: {len(checks.failed)} of {checks.passed + len(checks.failed)} checks.")
        return False
    console.print(f"\n[bold green]Demo passed[/]: {checks.passed} checks.")
    console.print("Next: `mlrelay local up` keeps a stack running; `mlrelay local drop FILE` and `mlrelay runs list` use it.")
    return True


def _show_stack(console: Console, stack: EmbeddedStack) -> None:
    applied = stack.applied
    console.print(f"\n[bold]1. The stack[/] on {stack.info.endpoint}, from infra/resources.json")
    kinds = Counter(kind.split("::")[-1] for kind in applied.created.values())
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    console.print(f"   created {summary}, and {len(stack.info.functions)} functions running app.py in process")
    console.print(f"   function logs: {FUNCTION_LOG}")
    for logical_id, reason in applied.skipped.items():
        console.print(f"   [dim]not emulated: {logical_id} ({reason})[/]")


def _valid_config(console: Console, checks: Checks, stack: EmbeddedStack, bucket: str) -> None:
    key = TRAIN_PREFIX + VALID_CONFIG.name
    console.print(f"\n[bold]2. Drop a valid config[/]: {VALID_CONFIG.relative_to(PROJECT_ROOT)} → s3://{bucket}/{key}")
    put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=VALID_CONFIG.read_bytes())
    stack.runtime.wait_idle()
    sfn = stack.client("stepfunctions")
    machines = stack.info.state_machines
    runs = wait_for(lambda: _finished_runs(sfn, machines))
    if not checks.check(bool(runs) and len(runs) == 1, f"one training run started ({len(runs or [])} found)"):
        return
    detail = show_run(sfn, machines, runs[0].run_id)
    checks.check(detail.summary.status == "SUCCEEDED", f"run {detail.summary.run_id} ended {detail.summary.status}")
    console.print(steps_table(detail))

    event = s3_object_created(
        bucket, key, put.get("VersionId"), put["ETag"], len(VALID_CONFIG.read_bytes()), ACCOUNT_ID, stack.info.region
    )
    for _ in range(2):
        stack.client("lambda").invoke(
            FunctionName=stack.info.functions["on_config_dropped"], Payload=json.dumps(event).encode()
        )
    total = len(list_runs(sfn, machines))
    checks.check(total == 1, f"the same S3 event delivered twice more: still {total} run")


def _broken_config(console: Console, checks: Checks, stack: EmbeddedStack, bucket: str) -> None:
    key = TRAIN_PREFIX + BROKEN_CONFIG.name
    console.print(f"\n[bold]3. Drop a broken config[/]: {BROKEN_CONFIG.relative_to(PROJECT_ROOT)} → s3://{bucket}/{key}")
    s3 = stack.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=BROKEN_CONFIG.read_bytes())
    stack.runtime.wait_idle()
    runs = list_runs(stack.client("stepfunctions"), stack.info.state_machines)
    checks.check(len(runs) == 1, "nothing started for it (still one run in total)")
    report_key = key + ".error.json"
    report = _read_json(s3, bucket, report_key)
    if checks.check(report is not None, f"error report written: s3://{bucket}/{report_key}"):
        table = Table("field", "problem", box=None, padding=(0, 2))
        for problem in report["problems"]:
            table.add_row(problem["path"] or "(file)", problem["message"])
        console.print(table)
    messages = _drain(stack.client("sqs"), stack.info.outputs["FailuresQueueUrl"])
    rejected = [m for m in messages if m.get("kind") == "config_rejected" and m["config"]["key"] == key]
    checks.check(len(rejected) == 1, f"one failure message on the failures queue ({len(rejected)} found)")


def steps_table(detail: RunDetail) -> Table:
    table = Table("step", "type", "status", "attempts", "took", "error", box=None, padding=(0, 2))
    for step in detail.steps:
        took = f"{(step.exited - step.entered).total_seconds():.2f}s" if step.exited else "…"
        style = {"succeeded": "green", "failed": "red", "caught": "yellow"}.get(step.status, "")
        status = f"[{style}]{step.status}[/]" if style else step.status
        table.add_row(step.name, step.state_type, status, str(step.attempts or ""), took, step.error or "")
    return table


def _finished_runs(sfn: Any, machines: dict[str, str]) -> list[Any] | None:
    runs = list_runs(sfn, machines)
    return runs if runs and all(r.status != "RUNNING" for r in runs) else None


def _read_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages

