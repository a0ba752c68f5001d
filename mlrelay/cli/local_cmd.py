"""`mlrelay local up|drop`: the embedded AWS stack for trying things on a laptop."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail
from mlrelay.cli.schedule_cmd import schedule_command

app = typer.Typer(help="Run mlrelay's AWS stack on this machine (moto server mode).", no_args_is_help=True)


@app.command()
def up(
    stage: str = typer.Option("dev", help="Chalice stage whose settings the stack uses."),
    demo_data: bool = typer.Option(True, help="Put a synthetic catalogue where the example configs' data.uri points."),
    state_dir: Path | None = typer.Option(
        None, help="Where the stack keeps what it holds (S3, tables, registry, runs, queues, warehouse) and the step "
        "logs [default: the state file's folder, .mlrelay/]. A start on the same folder has it all back."),
    fresh: bool = typer.Option(False, "--fresh", help="Start empty: what the folder held is deleted first."),
) -> None:
    """Start the embedded stack and keep it running in the foreground until Ctrl-C.

    Every write it acknowledges is kept under --state-dir first, so a stop of any kind (Ctrl-C, SIGTERM, SIGKILL)
    loses none; runs that were running are marked interrupted at the next start, and `mlrelay runs resume RUN`
    finishes them."""
    from rich.table import Table

    from mlrelay.local.durable.store import empty
    from mlrelay.local.stack import EmbeddedStack, StackError
    from mlrelay.local.state_file import remove_state, running_stack_pid, state_file_path, write_state

    had_state = state_file_path().exists()
    if (running := running_stack_pid()) is not None and running != os.getpid():
        fail(f"an embedded stack already runs (pid {running}, {state_file_path()}): stop it first, or set MLRELAY_STATE_FILE "
             "to another path for a second one")
    if had_state:
        console.print(f"[yellow]cleaned up:[/] removed {state_file_path()}, left by a stack that did not stop", soft_wrap=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    folder = state_dir or state_file_path().parent
    held = folder / "stack"
    if fresh and held.exists():
        empty(held)
        console.print(f"[yellow]--fresh:[/] deleted what {held} held", soft_wrap=True)
    # kept in the state folder, not in a temporary one: a step's log outlives the stack that wrote it
    logs = folder / "logs"
    stack = EmbeddedStack(stage=stage, log_dir=logs, process_file=state_file_path().with_suffix(".processes.json"),
                          state_dir=held)
    try:
        with console.status("starting the embedded AWS stack…"):
            stack.start()
    except StackError as err:
        fail(str(err))
    for line in stack.leftovers:
        console.print(f"[yellow]cleaned up:[/] {line}", soft_wrap=True)  # whole paths and pids, never broken
    restored = stack.durable is not None and stack.durable.held_before
    if restored and stack.restored is not None:
        console.print(f"[green]✓[/] restored from {held}: {stack.restored.summary()}", soft_wrap=True)
    for run in stack.interrupted:
        how = f"`mlrelay runs resume {run.run_id}`" if run.state_input is not None else "upload its config again"
        console.print(f"[yellow]interrupted:[/] {run.workflow} run {run.run_id} at {run.state or 'its start'}; {how}",
                      soft_wrap=True)
    try:
        if demo_data and not restored:
            _seed_demo_data(stack)
        path = write_state(stack.info)
        console.print(f"[green]✓[/] stack up on {stack.info.endpoint} (stage {stage}); state in {path}; logs in {logs} "
                      "(the functions' and each pipeline step's; `mlrelay runs logs RUN [--step STEP]`)")
        table = Table("output", "value", box=None, padding=(0, 2))
        for name, value in stack.info.outputs.items():
            table.add_row(name, value)
        console.print(table)
        console.print("Start a model with `mlrelay init NAME --template ...` and `mlrelay submit NAME`; "
                      "watch with `mlrelay runs list`. Ctrl-C stops.")
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping: running jobs are ended, their steps fail as stopped…")
        stack.stop(timeout_seconds=10, stop_jobs=True)
        remove_state()  # last: until now the stack can still be reached
    console.print("stack stopped")
    # Work the stack's pools still hold (an invocation retrying against the stopped emulator) belongs to a stack that
    # is gone: the interpreter's exit would wait for those threads, past the 30 s a stop may take.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


@app.command()
def alerts(limit: int = typer.Option(50, help="Show at most this many, newest last.")) -> None:
    """What the alerts consumer sent: the Slack posts the local receiver accepted, and the SNS messages."""
    import requests

    info, client = connect()
    receiver = info.local.get("slack_webhook_url", "").split("/services/")[0]
    posts = requests.get(f"{receiver}/messages", timeout=5).json() if receiver else []
    console.print(f"[bold]Slack[/] ({len(posts)} posts)")
    for post in posts[-limit:]:
        console.print(f"  {post['message'].get('text', '')}")
    sqs = client("sqs")
    inbox = info.local.get("alerts_inbox_url")
    messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []) if inbox else []
    console.print(f"[bold]SNS[/] (the last {len(messages)} messages on the topic's local subscriber)")
    for message in messages[-limit:]:
        console.print(f"  {json.loads(message['Body']).get('Subject', '')}")


def _seed_demo_data(stack: Any) -> None:
    from mlrelay.demo.sections import CATALOGUE_ROWS, CLEAN_DATA, DATA_BUCKET
    from mlrelay.synthetic import synthesize

    s3 = stack.client("s3")
    s3.create_bucket(Bucket=DATA_BUCKET)
    # versioned, as a data bucket should be: a version's lineage then names the exact object version it trained on
    s3.put_bucket_versioning(Bucket=DATA_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    table = synthesize(CATALOGUE_ROWS, seed=1).to_csv(index=False).encode()
    s3.put_object(Bucket=DATA_BUCKET, Key=CLEAN_DATA, Body=table)
    console.print(f"[green]✓[/] demo catalogue ({CATALOGUE_ROWS:,} items) in s3://{DATA_BUCKET}/{CLEAN_DATA}")


app.command("schedule")(schedule_command)


@app.command()
def put(
    file: Path = typer.Argument(..., help="A local file, e.g. your training table."),
    uri: str = typer.Argument(..., help="Where in the local stack's S3: s3://bucket/key (the bucket is created if missing)."),
) -> None:
    """Copy a local file into the local stack's S3, for example the table a config's data.uri names."""
    if not file.is_file():
        fail(f"{file}: no such file", code=2)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key or key.endswith("/"):
        fail(f"{uri!r} is not an object URI: write it as s3://bucket/path/to/{file.name}", code=2)
    info, client = connect()
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(file), bucket, key)
    console.print(f"copied {file} ({file.stat().st_size:,} bytes) → s3://{bucket}/{key}")


@app.command()
def drop(
    file: Path = typer.Argument(..., help="A config file (*.json, *.yaml, *.yml)."),
    key: str | None = typer.Option(None, help="S3 key to upload to (default: configs/train/<model_name> with the file's "
                                   "suffix, or the file's name when it does not parse)."),
    wait: bool = typer.Option(True, help="Wait for the outcome and print it."),
    timeout: float = typer.Option(60, help="Seconds to wait for the outcome."),
) -> None:
    """Upload a config to the running stack's bucket, as a data scientist would."""
    from chalicelib.config.parsing import CONFIG_SUFFIXES, ConfigError
    from mlrelay.cli.outcome import Uploaded, print_outcome, wait_for_outcome
    from mlrelay.submission import prepare

    if not file.is_file():
        fail(f"{file}: no such file", code=2)
    if not file.name.lower().endswith(CONFIG_SUFFIXES):
        console.print(f"[yellow]note:[/] {file.name} is not *.json/*.yaml/*.yml; the trigger will reject it")
    info, client = connect()
    bucket = info.outputs["ConfigBucketName"]
    chosen = key
    key = key or f"configs/train/{file.name}"
    body = file.read_bytes()
    if key.startswith("configs/train/"):
        try:
            submission = prepare(file, client("s3"), bucket)
        except ConfigError as err:
            console.print(f"[yellow]note:[/] {file} has problems ({err}); uploading it as it is, so the trigger reports them")
        else:
            body = submission.body
            if chosen is None:  # named after the model, as `submit` names it: a model folder's config.yaml is not "config"
                key = f"configs/train/{submission.config.model_name}{file.suffix.lower()}"
            if submission.bundle is not None:
                state = "uploaded" if submission.bundle_uploaded else "unchanged, already uploaded"
                console.print(f"code: {len(submission.bundle.files)} files → {submission.bundle.uri(bucket)} ({state})")
    put = client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    console.print(f"uploaded s3://{bucket}/{key} (version {put.get('VersionId')})")
    if not wait:
        return
    outcome = wait_for_outcome(client, info.state_machines, Uploaded(bucket, key, put.get("VersionId"), put["ETag"]), timeout)
    if outcome is None:
        fail(f"no outcome after {timeout:.0f}s: check `mlrelay runs list` and the stack's log")
    print_outcome(outcome)


@app.command()
def envs(
    image: list[str] = typer.Option(
        [], "--image", help="framework/version to build, e.g. sklearn/1.2-1 (repeatable) [default: every image but PyTorch's, "
        "which is about 5 GB]"),
) -> None:
    """Build the Python environments local jobs run in, one per framework image, with the image's library versions.

    A job builds its image's environment on first use; this builds them ahead (pip, from PyPI), and lists what each
    holds and where (MLRELAY_IMAGE_ENVS, default ~/.cache/mlrelay/images)."""
    import time

    from mlrelay.local.image_libraries import IMAGES
    from mlrelay.local.user_env import RequirementsError, image_environment, image_environment_path

    chosen = [tuple(name.split("/", 1)) for name in image] or [key for key in IMAGES if key[0] != "pytorch"]
    unknown = [f"{'/'.join(key)}" for key in chosen if key not in IMAGES]
    if unknown:
        fail(f"no such image: {', '.join(unknown)}; known: {', '.join('/'.join(key) for key in IMAGES)}", code=2)
    for key in chosen:
        libraries = IMAGES[key]  # type: ignore[index]
        started = time.monotonic()
        directory = image_environment_path(libraries)
        log = directory.parent / f"{directory.name}.log"
        try:
            _, built = image_environment(libraries, log, progress=lambda line: console.print(line))
        except RequirementsError as err:
            fail(f"{libraries.name}: {err} (pip's whole output: {log})")
        state = f"built in {time.monotonic() - started:.0f} s" if built else "ready (cached)"
        console.print(f"✓ {libraries.name}: {state}, {image_environment_path(libraries)}")
