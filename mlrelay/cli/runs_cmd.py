"""`mlrelay runs list|show|logs|resume`: workflow runs, their state-by-state history, their logs, and resuming them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

if TYPE_CHECKING:  # the commands import what they use when they run, so `mlrelay --help` starts fast
    from mlrelay.local.state_file import StackInfo

app = typer.Typer(help="Inspect and resume workflow runs (the local stack, or a deployed one with --stage).", no_args_is_help=True)


@app.command("list")
def list_command(
    limit: int = typer.Option(50, help="Show at most this many runs, newest first."),
    cost: bool = typer.Option(False, "--cost", help="Instead, the estimated AWS cost of those runs by model and month."),
) -> None:
    """List runs of every workflow, newest first."""
    from rich.table import Column, Table

    from mlrelay.runs import list_runs

    info, client = connect()
    runs = list_runs(client("stepfunctions"), info.state_machines)
    if not runs:
        console.print("no runs yet: submit a config with `mlrelay submit FOLDER_OR_CONFIG`")
        return
    if cost:
        _costs_by_model_and_month(info, client, [run.run_id for run in runs[:limit]])
        return
    # Run ids are copied into `runs show`, so they are never cut.
    table = Table(
        *(Column(name, no_wrap=True) for name in ("run id", "workflow", "status", "started", "took")),
        box=None,
        padding=(0, 1),
    )
    for run in runs[:limit]:
        took = f"{(run.stopped - run.started).total_seconds():.1f}s" if run.stopped else "…"
        table.add_row(run.run_id, run.workflow, run.status, run.started.strftime("%m-%d %H:%M:%S"), took)
    console.print(table)


@app.command()
def show(run_id: str = typer.Argument(..., help="A run id from `mlrelay runs list`.")) -> None:
    """Show one run: its input, each state it went through, and how it ended."""
    from rich.table import Table

    from mlrelay.costs import prices
    from mlrelay.operator_actions import run_cost
    from mlrelay.runs import RunNotFoundError, show_run
    from mlrelay.tables import steps_table

    info, client = connect()
    try:
        detail = show_run(client("stepfunctions"), info.state_machines, run_id)
    except RunNotFoundError as err:
        fail(str(err))
    summary = detail.summary
    for number, attempt in enumerate(detail.earlier, start=1):
        console.print(f"[dim]attempt {number}: {attempt.summary.status} ({attempt.summary.execution_arn})[/]")
        console.print(steps_table(attempt))
    attempt_note = f", attempt {summary.attempts}" if summary.attempts > 1 else ""
    console.print(f"[bold]{summary.run_id}[/] ({summary.workflow}{attempt_note}): {summary.status}")
    console.print(f"execution: {summary.execution_arn}")
    for line in run_facts(detail.input):
        console.print(line)
    console.print(steps_table(detail))
    for step in detail.steps:
        if step.status in ("failed", "caught") and step.cause:
            console.print(f"[yellow]{step.name}[/] {step.error}: {step.cause}")
    if detail.error:
        console.print(f"[red]error[/]: {detail.error}: {detail.cause or ''}")
    cost = run_cost(info, client, detail)
    table = Table("estimated cost on AWS", "used", "USD", box=None, padding=(0, 2))
    for cost_line in cost.lines:
        usd = f"{cost_line.usd:.6f}" if cost_line.usd is not None else "no price in mlrelay/prices.json"
        table.add_row(cost_line.item, cost_line.quantity, usd)
    console.print(table)
    console.print(f"cost: about ${cost.total:.4f} ({prices()['region']} list prices of {prices()['as_of']}, mlrelay/prices.json)")


def run_facts(run_input: dict[str, Any]) -> list[str]:
    """What started the run, naming only what it has: a training run's config, a scheduled run's mode and time."""
    facts = {
        "model": run_input.get("model_name"), "mode": run_input.get("mode"),
        "scheduled for": run_input.get("scheduled_for"), "requested": run_input.get("requested_at"),
        "catalogue": run_input.get("catalogue_uri"),
    }
    lines = ["   ".join(f"{name}: {value}" for name, value in facts.items() if value)]
    config = run_input.get("config") or {}
    if config.get("bucket") and config.get("key"):
        version = f" (version {config['version_id']})" if config.get("version_id") else ""
        lines.append(f"config: s3://{config['bucket']}/{config['key']}{version}")
    return [line for line in lines if line]


def _costs_by_model_and_month(info: StackInfo, client: Any, run_ids: list[str]) -> None:
    from rich.table import Table

    from mlrelay.costs import prices
    from mlrelay.operator_actions import run_cost
    from mlrelay.runs import show_run

    totals: dict[tuple[str, str], list[float]] = defaultdict(list)
    with console.status(f"reading {len(run_ids)} runs…"):
        for run_id in run_ids:
            detail = show_run(client("stepfunctions"), info.state_machines, run_id)
            key = (str(detail.input.get("model_name", "?")), detail.summary.started.strftime("%Y-%m"))
            totals[key].append(run_cost(info, client, detail).total)
    table = Table("model", "month", "runs", "USD", box=None, padding=(0, 2))
    for (model, month), costs in sorted(totals.items()):
        table.add_row(model, month, str(len(costs)), f"{sum(costs):.4f}")
    console.print(table)
    console.print(f"total: about ${sum(sum(c) for c in totals.values()):.4f} for {len(run_ids)} runs "
                  f"({prices()['region']} list prices of {prices()['as_of']})")
    _endpoint_costs(info, client)


def _endpoint_costs(info: StackInfo, client: Any) -> None:
    """The endpoints cost by the hour or by the request, whatever the runs: each at its serving settings."""
    from chalicelib.aws.model_versions import ModelVersions
    from mlrelay.endpoints_view import cost_text, endpoint_rows

    rows = [row for row in endpoint_rows(ModelVersions(info.outputs["ModelsTableName"], client("dynamodb")),
                                         client("sagemaker"), info.stage) if row.cost is not None]
    for row in rows:
        console.print(f"and the endpoint {row.endpoint} ({row.settings}): {cost_text(row.cost)}")


@app.command()
def logs(
    run_id: str = typer.Argument(..., help="A run id from `mlrelay runs list`."),
    hours: float = typer.Option(72, help="How far back to look."),
    step: str | None = typer.Option(None, "--step", help="Instead, the output of this pipeline step's job (Split, Train, "
                                    "Transform, ...): its CloudWatch Logs stream, where SageMaker writes it."),
) -> None:
    """The functions' log lines that mention the run (CloudWatch Logs, every function's log group), oldest first;
    with --step, a pipeline step's own output (every attempt's job, oldest first)."""
    from rich.table import Table

    from mlrelay.run_logs import run_log_lines

    info, client = connect()
    if step is not None:
        _step_logs(client, info, run_id, step)
        return
    lines = run_log_lines(client("logs"), list(info.functions.values()), run_id, since_hours=hours)
    if not lines:
        fail(f"no log lines mention {run_id} in the last {hours:g} hours (`mlrelay runs list` shows the run ids)")
    table = Table("time (UTC)", "function", "level", "message", box=None, padding=(0, 1))
    for line in lines:
        table.add_row(line.at.strftime("%m-%d %H:%M:%S"), line.function, line.level, line.message)
    console.print(table)
    console.print(f"{len(lines)} lines")


def _step_logs(client: Any, info: StackInfo, run_id: str, step: str) -> None:
    from mlrelay.run_logs import job_log_lines, step_jobs
    from mlrelay.run_usage import pipeline_executions
    from mlrelay.runs import RunNotFoundError, show_run

    try:
        detail = show_run(client("stepfunctions"), info.state_machines, run_id)
    except RunNotFoundError as err:
        fail(str(err))
    jobs = step_jobs(client("sagemaker"), pipeline_executions(detail))
    chosen = [job for job in jobs if job.step == step]
    if not chosen:
        steps = ", ".join(dict.fromkeys(job.step for job in jobs)) or "none: the run started no pipeline job"
        fail(f"run {run_id} has no job for step {step!r}; its steps with jobs: {steps}")
    for job in chosen:
        console.print(f"[bold]{job.step}[/]: {job.kind} {job.job_name} ({job.log_group})", highlight=False)
        lines = job_log_lines(client("logs"), job)
        console.print("\n".join(lines) if lines else "(no output)", markup=False, highlight=False, soft_wrap=True)


@app.command()
def resume(
    run_id: str = typer.Argument(..., help="The failed run, as `mlrelay runs list` and its alert name it."),
    with_config: Path | None = typer.Option(
        None, "--with-config", exists=True,
        help="A fixed model folder or training config: checked, its code folder packed and uploaded as `submit` does; "
        "the run goes back to the step that reads the config and redoes what follows (pipeline steps whose inputs did "
        "not change come from the cache).",
    ),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the resumed run to end and show it."),
) -> None:
    """Resume a failed run from the step that failed: the steps before it are not run again.

    A training run whose table or code bundle changed at its S3 address since the run read them goes back to
    the step that reads the config instead, and every pipeline step that reads them runs again.

    Calls the stack's resume_run function (on AWS, invoke mlrelay-<stage>-resume_run the same way).
    A run that succeeded is left alone; a running run is refused.
    """
    from mlrelay.cli.submit_cmd import config_file
    from mlrelay.operator_actions import ActionRefusedError
    from mlrelay.operator_actions import resume as request_resume
    from mlrelay.resume_client import ResumeError, skipped_steps, wait_for_execution
    from mlrelay.runs import show_run
    from mlrelay.tables import steps_table

    info, client = connect()
    try:
        resumed = request_resume(info, client, run_id, config_file(with_config) if with_config is not None else None)
    except ActionRefusedError as err:
        fail(str(err))
    if (submission := resumed.submission) is not None and submission.bundle is not None:
        state = "uploaded" if submission.bundle_uploaded else "unchanged, already uploaded"
        console.print(f"code: {len(submission.bundle.files)} files → "
                      f"{submission.bundle.uri(info.outputs['ConfigBucketName'])} ({state})")
    if resumed.outcome == "nothing_to_do":
        console.print(resumed.message)
        return
    answer = resumed.answer
    console.print(f"resumed [bold]{run_id}[/] at [bold]{answer['from_state']}[/] (attempt {answer['attempt'] + 1})")
    sfn = client("stepfunctions")
    for changed in answer.get("inputs_changed", []):
        console.print(f"{changed} changed since the run read it: its steps run again")
    skipped = skipped_steps(sfn, answer["previous_execution_arn"], answer["from_state"])
    console.print(f"skipped, done in an earlier attempt: {', '.join(skipped) or 'nothing'}")
    if answer.get("retried_pipeline_execution_arn"):
        console.print(f"retrying pipeline execution {answer['retried_pipeline_execution_arn']} from its failed step")
    if not wait:
        console.print(f"execution: {answer['execution_arn']}")
        return
    try:
        final = wait_for_execution(sfn, answer["execution_arn"])
    except ResumeError as err:
        fail(str(err))
    detail = show_run(sfn, info.state_machines, run_id)
    console.print(steps_table(detail))
    if final != "SUCCEEDED":
        fail(f"the resumed run ended {final}: {detail.error or ''} {detail.cause or ''}".strip())
    console.print(f"[green]run {run_id} succeeded[/]")
