"""`mlrelay submit FOLDER_OR_CONFIG`: check a model config, upload its data, code and config, and wait for the outcome."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import typer

from mlrelay.cli.connection import connect
from mlrelay.cli.output import console, fail

SINGLE_PART_LIMIT = 8 * 1024 * 1024  # boto3 uploads larger files in parts, whose ETag is not the file's MD5


def submit_command(
    path: Path = typer.Argument(..., help="A model folder (from `mlrelay init`) holding config.yaml, or a config file."),
    data: Path | None = typer.Option(None, "--data", help="A local table to upload to the config's data.uri first."),
    wait: bool = typer.Option(True, help="Wait for the run to end (or the trigger to reject the config) and print it."),
    timeout: float = typer.Option(3600, help="Seconds to wait for the outcome."),
) -> None:
    """Validate a model config, upload its table (--data) and its code (skipped when unchanged) and the config, then
    wait for the training run and print how it ended: the steps, the model version and why it was promoted or not.

    Talks to the local stack, or to the deployed one with `mlrelay --stage STAGE submit ...`.
    Exits 1 when the config is refused or the run fails."""
    from chalicelib.config.parsing import ConfigError
    from mlrelay.cli.outcome import Uploaded, print_outcome, wait_for_outcome
    from mlrelay.submission import check, publish

    config_path = config_file(path)
    if data is not None and not data.is_file():
        fail(f"--data {data}: no such file", code=2)
    info, client = connect()
    s3, bucket = client("s3"), info.outputs["ConfigBucketName"]
    try:
        config, bundle = check(config_path)
    except ConfigError as err:
        console.print(f"[red]{config_path} is not a valid config[/]; nothing was uploaded:")
        for problem in err.problems:
            console.print(f"  {problem}")
        raise typer.Exit(1) from err
    if data is not None:
        _upload_data(s3, data, config.data.uri, info.endpoint)
    submission = publish(config_path, config, bundle, s3, bucket)
    if submission.bundle is not None:
        state = "uploaded" if submission.bundle_uploaded else "unchanged, not uploaded again"
        console.print(f"code: {len(submission.bundle.files)} files → {submission.bundle.uri(bucket)} ({state})")
    key = f"configs/train/{submission.config.model_name}{config_path.suffix.lower()}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=submission.body)
    console.print(f"config: s3://{bucket}/{key} (version {put.get('VersionId')})")
    if not wait:
        console.print("follow it with `mlrelay runs list`")
        return
    outcome = wait_for_outcome(client, info.state_machines, Uploaded(bucket, key, put.get("VersionId"), put["ETag"]), timeout)
    if outcome is None:
        fail(f"no outcome after {timeout:.0f} s: the run goes on; follow it with `mlrelay runs list`")
    print_outcome(outcome)


def config_file(path: Path) -> Path:
    """The config a model folder holds, or the config file named (`submit` and `runs resume --with-config`)."""
    from chalicelib.config.parsing import CONFIG_SUFFIXES

    config_names = tuple(f"config{suffix}" for suffix in CONFIG_SUFFIXES)
    if path.is_dir():
        found = [path / name for name in config_names if (path / name).is_file()]
        if not found:
            fail(f"{path} holds no {' / '.join(config_names)}: pass the config file itself, or create a model folder "
                 "with `mlrelay init NAME --template ...`", code=2)
        return found[0]
    if not path.is_file():
        fail(f"{path}: no such file or folder", code=2)
    if not path.name.lower().endswith(CONFIG_SUFFIXES):
        fail(f"{path}: a config is a {' / '.join(CONFIG_SUFFIXES)} file", code=2)
    return path


def _upload_data(s3: Any, data: Path, uri: str, local_endpoint: str) -> None:
    """Put the table at the config's data.uri (under it, when the URI is a prefix ending in /)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if key.endswith("/"):
        key += data.name
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as err:
        if not local_endpoint:  # a deployed stack's buckets are the team's to create
            fail(f"cannot use bucket {bucket} for data.uri: {err}. Create it, or point data.uri at the stack's bucket")
        s3.create_bucket(Bucket=bucket)
    size = data.stat().st_size
    if _unchanged(s3, bucket, key, data, size):
        console.print(f"data: s3://{bucket}/{key} (unchanged, not uploaded again)")
        return
    with console.status(f"uploading {data} ({size:,} bytes)…"):
        s3.upload_file(str(data), bucket, key)
    console.print(f"data: {data} ({size:,} bytes) → s3://{bucket}/{key}")


def _unchanged(s3: Any, bucket: str, key: str, data: Path, size: int) -> bool:
    if size > SINGLE_PART_LIMIT:
        return False
    try:
        there = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    digest = hashlib.md5(data.read_bytes(), usedforsecurity=False).hexdigest()
    return there.get("ContentLength") == size and there.get("ETag", "").strip('"') == digest

