"""Deterministic names: the same inputs always give the same run id.

Step Functions execution names are at most 80 characters of letters, digits,
'-' and '_' (the subset that also works with CloudWatch logging), so a long
readable part is cut and a hash of the full identity keeps names unique.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

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


MAX_PACKAGE_GROUP_NAME = 63  # SageMaker's limit for a model package group's name


def package_group_name(stage: str, model_name: str) -> str:
    """A model's package group in the registry, owned by the stage: dev and prod in one account never share one."""
    return f"mlrelay-{stage}-{model_name}"


def model_of_package_group(stage: str, group_name: str) -> str | None:
    """The model a package group holds, or None if the group is not this stage's."""
    prefix = package_group_name(stage, "")
    return group_name.removeprefix(prefix) if group_name.startswith(prefix) and len(group_name) > len(prefix) else None


TRAINING_RUN_PREFIX = "train"
SEGMENT_RUN_PREFIX = "segment"  # a model family's training runs, one per segment


def upload_identity(version_id: str | None, etag: str) -> str:
    """What names one upload: its version id, or in an unversioned bucket only its ETag."""
    return version_id if version_id and version_id != "null" else f"etag:{etag.strip(chr(34))}"


def training_run_id(bucket: str, key: str, version_id: str | None, etag: str) -> str:
    """The run id for one uploaded version of a config: the same upload, the same run."""
    return execution_name(TRAINING_RUN_PREFIX, config_stem(key), bucket, key, upload_identity(version_id, etag))


def on_demand_run_id(model_name: str, bucket: str, key: str, identity: str) -> str:
    """An inference request dropped under configs/infer/: one run per uploaded version."""
    return execution_name("infer", f"{model_name}-on-demand", bucket, key, identity)


def scheduled_run_id(model_name: str, mode: str, scheduled_for: datetime) -> str:
    """One run per model per day (daily) or month (monthly): a schedule delivered twice runs once."""
    period = scheduled_for.strftime("%Y-%m-%d") if mode == "daily" else scheduled_for.strftime("%Y-%m")
    return f"infer-{model_name}-{mode}-{period}"


MAX_ROLE_NAME = 64  # IAM's limit


def model_role_path(stage: str) -> str:
    """The IAM path of a stage's model roles: the stack's functions may make and pass roles under it, and no other."""
    return f"/mlrelay-{stage}-models/"


def model_role_name(stage: str, model_name: str) -> str:
    """`mlrelay-<stage>-<model>`, or its first characters and a hash of it when that is longer than IAM allows."""
    name = f"mlrelay-{stage}-{model_name}"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{name[: MAX_ROLE_NAME - _DIGEST_CHARS - 1].rstrip('-')}-{digest}"


MAX_ENDPOINT_NAME = 63  # SageMaker's limit for endpoint, endpoint config and model names
DEPLOY_RUN_PREFIX = "deploy"


def _sagemaker_name(name: str) -> str:
    """`name`, or its first characters and a hash of it when SageMaker would refuse its length."""
    if len(name) <= MAX_ENDPOINT_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{name[: MAX_ENDPOINT_NAME - _DIGEST_CHARS - 1].rstrip('-')}-{digest}"


def endpoint_name(stage: str, model_name: str) -> str:
    """The endpoint that serves a model's approved version (or a model family's, for a multi-model endpoint)."""
    return _sagemaker_name(f"mlrelay-{stage}-{model_name}")


def endpoint_version_name(stage: str, model_name: str, label: str, *identity: str) -> str:
    """A SageMaker model or endpoint config for one deployment: `mlrelay-<stage>-<model>-<label>-<hash>`; the same
    identity gives the same name, so a retried step finds what its first attempt made."""
    digest = hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:8]
    readable = f"mlrelay-{stage}-{model_name}-{label}"
    return f"{readable[: MAX_ENDPOINT_NAME - 9].rstrip('-')}-{digest}"


def deploy_run_id(model_name: str, version: int, *identity: str) -> str:
    """One deployment of a version: the decision or training run that asked for it makes it unique."""
    return execution_name(DEPLOY_RUN_PREFIX, f"{model_name}-v{version}", model_name, str(version), *identity)
