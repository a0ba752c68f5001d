"""Where a running `mlrelay local up` tells the other commands how to reach it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE_ENV = "MLRELAY_STATE_FILE"
ACCOUNT_ID = "123456789012"  # moto's default account: the embedded stack's
REGION = "us-east-1"


@dataclass(frozen=True)
class StackInfo:
    """What other processes need to talk to a stack: a running local one (this file), or a deployed one."""

    endpoint: str
    stage: str
    region: str
    outputs: dict[str, str]
    functions: dict[str, str]  # Chalice name -> deployed function name
    state_machines: dict[str, str]  # logical id -> ARN
    local: dict[str, str] = field(default_factory=dict)  # what only the embedded stack has (the Slack receiver)


def local_config_bucket(stage: str = "dev") -> str:
    """The embedded stack's bucket (infra/resources.json names it mlrelay-<stage>-<account>-<region>)."""
    return f"mlrelay-{stage}-{ACCOUNT_ID}-{REGION}"


class NoLocalStackError(RuntimeError):
    """No embedded stack is running (or its state file is stale)."""


def state_file_path() -> Path:
    return Path(os.environ.get(STATE_FILE_ENV, ".mlrelay/local.json"))


def write_state(info: StackInfo) -> Path:
    path = state_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    from mlrelay.local.job_processes import started_at

    path.write_text(json.dumps({**asdict(info), "pid": os.getpid(), "started_at": started_at(os.getpid())}, indent=2))
    return path


def remove_state() -> None:
    state_file_path().unlink(missing_ok=True)


def running_stack_pid() -> int | None:
    """The pid of the stack the state file names, if that process still runs; a stale file is removed."""
    path = state_file_path()
    try:
        document = json.loads(path.read_text())
        pid = int(document["pid"])
    except (FileNotFoundError, ValueError, KeyError):
        return None
    from mlrelay.local.job_processes import alive, started_at

    # the stack's process only if it runs and, where /proc tells, started when recorded: a reused pid is someone else's
    recorded = document.get("started_at", "")
    if not alive(pid) or (recorded and started_at(pid) != recorded):
        path.unlink(missing_ok=True)
        return None
    return pid


def read_state() -> StackInfo:
    path = state_file_path()
    if not path.exists():
        raise NoLocalStackError(
            f"no embedded stack is running ({path} not found): start one with `mlrelay local up` in another terminal"
        )
    document = json.loads(path.read_text())
    document.pop("pid", None)
    document.pop("started_at", None)
    info = StackInfo(**document)
    import requests  # only when a command reads the state

    try:
        requests.get(f"{info.endpoint}/moto-api/", timeout=2)
    except requests.RequestException as err:
        raise NoLocalStackError(
            f"the embedded stack recorded in {path} does not answer at {info.endpoint}; "
            "it was probably stopped: run `mlrelay local up` again"
        ) from err
    return info

