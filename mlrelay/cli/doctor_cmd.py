"""`mlrelay doctor`: one line per check of a stage's stack, ✓ or ✗ with what to do; exit 1 on any ✗."""

from __future__ import annotations

import typer

from mlrelay.cli.output import console, fail


def doctor_command(
    send_test: bool = typer.Option(False, "--send-test", help="Also post one test message to the stage's Slack webhook."),
    canary: bool = typer.Option(False, "--canary", help="Also train a tiny built-in model and run a 10-row inference into a "
                                "scratch table, timing each step; everything it makes is removed afterwards."),
) -> None:
    """Check that a stack works, without changing it: its status, the bucket's events, every rule and its targets,
    every function and its code, the Slack parameter, the warehouse and its predictions table, the SageMaker
    pipelines against the committed definitions, the framework images in the region, and concurrency headroom.

    Without --stage it checks the embedded stack `mlrelay local up` runs; with --stage STAGE, the deployed stack
    mlrelay-STAGE."""
    import botocore.session

    from mlrelay.cli.connection import connect, target
    from mlrelay.doctor import run_checks
    from mlrelay.doctor.expected import expected_stack
    from mlrelay.local.template import TemplateError

    info, client = connect()
    account = client("sts").get_caller_identity()["Account"]
    partition = botocore.session.get_session().get_partition_for_region(info.region)
    try:
        expected = expected_stack(info.stage, account, info.region, partition)
    except TemplateError as err:
        fail(str(err))
    redeploy = f"redeploy: make deploy STAGE={target.stage}" if target.stage else "restart the embedded stack (`mlrelay local up`)"
    console.print(f"mlrelay doctor: {expected.stack_name} in {info.region}, account {account}")
    failed = 0
    for finding in run_checks(client, expected, info.region, info.outputs, redeploy, send_test):
        failed += not finding.ok
        console.print(f"[green]✓[/] {finding.what}" if finding.ok else f"[red]✗[/] {finding.what} [dim]→[/] {finding.fix}",
                      highlight=False, soft_wrap=True)
    if canary and not failed:
        from mlrelay.doctor.canary import run_canary

        failed += not run_canary(client, info, expected, console)
    elif canary:
        console.print("canary skipped: fix the checks above first")
    if failed:
        console.print(f"[red]{failed} check(s) failed[/]")
        raise typer.Exit(1)
    console.print("[green]the stack works[/]")
