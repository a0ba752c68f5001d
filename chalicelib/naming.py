"""Deterministic names: the same inputs always give the same run id.

Step Functions execution names are at most 80 characters of letters, digits,
'-' and '_' (the subset that also works with CloudWatch logging), so a long
readable part is cut and a hash of the full identity keeps names unique.
"""

from __future__ import annotations

import hashlib
import re

MAX_EXECUTION_NAME = 80
MAX_RUN_ID = 76  # leaves room for a resumed execution's suffix, -r1 to -r99
MAX_RESUMES = 99
_DIGEST_CHARS = 16  # 64 bits: collisions are not a practical concern at our volumes
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def execution_name(workflow: str, readable: str, *identity: str) -> str:
    """`<workflow>-<readable>-<hash of identity>`, at most MAX_RUN_ID characters."""
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:_DIGEST_CHARS]
    prefix = _UNSAFE.sub("-", f"{workflow}-{readable}").strip("-_")
    room = MAX_RUN_ID - _DIGEST_CHARS - 1
    return f"{prefix[:room].rstrip('-_')}-{digest}"


def config_stem(key: str) -> str:
    """'configs/train/packaging-type.json' -> 'packaging-type'."""
    name = key.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] or "config"


def resumed_execution_name(run_id: str, attempt: int) -> str:
    """The execution of a run's `attempt`-th resume: `<run id>-r<attempt>`."""
    if not 1 <= attempt <= MAX_RESUMES:
        raise ValueError(f"a run can be resumed at most {MAX_RESUMES} times (asked for resume {attempt})")
    return f"{run_id}-r{attempt}"
