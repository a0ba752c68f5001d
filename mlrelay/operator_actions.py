"""What a person does to a stage, for the CLI and the console alike: decide on a model version, resume a run, and
what a run cost. Each calls the stack as the operator's own identity, exactly as `mlrelay models|runs` do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlrelay.resume_client import ResumeError, invoke, upload_resume_config
from mlrelay.runs import RunNotFoundError, run_model

if TYPE_CHECKING:
    from mlrelay.costs import Estimate
    from mlrelay.local.state_file import StackInfo
    from mlrelay.runs import RunDetail
    from mlrelay.submission import Submission

DECISIONS = ("approve", "reject", "rollback")


class ActionRefusedError(RuntimeError):
    """The stack refused the action, or could not be asked: the message says why and what to do."""


@dataclass(frozen=True)
class Decided:
    outcome: str  # decided | unchanged
    message: str


@dataclass(frozen=True)
class Resumed:
    outcome: str  # resumed | nothing_to_do
    message: str
    answer: dict[str, Any] = field(default_factory=dict)
    submission: Submission | None = None


def decide(info: StackInfo, client: Callable[[str], Any], action: str, name: str, version: int | None, reason: str) -> Decided:
    """Calls the stack's decide_model function (on AWS, mlrelay-<stage>-decide_model) as the caller's identity, which
    the version's history records."""
    if action not in DECISIONS:
        raise ActionRefusedError(f"unknown decision {action!r}: one of {', '.join(DECISIONS)}")
    if not reason.strip():
        raise ActionRefusedError("a decision needs a reason: it is kept in the version's history and sent with the notice")
    actor = client("sts").get_caller_identity()["Arn"]
    event = {"action": action, "model_name": name, "version": version, "reason": reason, "actor": actor}
    try:
        answer = invoke(client("lambda"), info.functions["decide_model"], event)
    except ResumeError as err:
        raise ActionRefusedError(str(err)) from err
    if answer["outcome"] == "refused":
        raise ActionRefusedError(answer["message"])
    return Decided(answer["outcome"], answer["message"])


def resume(info: StackInfo, client: Callable[[str], Any], run_id: str, with_config: Path | None = None) -> Resumed:
    """Calls the stack's resume_run function; with a fixed config, checks and uploads it (and its code folder) first,
    as `submit` does, next to the run's outputs."""
    event: dict[str, Any] = {"run_id": run_id}
    submission = None
    try:
        if with_config is not None:
            model_name = run_model(client("stepfunctions"), info.state_machines, run_id)  # the run's, not the config's
            event["config"], submission = upload_resume_config(
                client("s3"), info.outputs["ConfigBucketName"], model_name, run_id, with_config)
        answer = invoke(client("lambda"), info.functions["resume_run"], event)
    except (ResumeError, RunNotFoundError) as err:
        raise ActionRefusedError(str(err)) from err
    if answer["outcome"] not in ("resumed", "nothing_to_do"):
        raise ActionRefusedError(answer["message"])
    message = answer.get("message") or f"resumed {run_id} at {answer['from_state']} (attempt {answer['attempt'] + 1})"
    return Resumed(answer["outcome"], message, answer, submission)


def run_cost(info: StackInfo, client: Callable[[str], Any], detail: RunDetail) -> Estimate:
    """The run's estimated cost on AWS at list prices (mlrelay/prices.json)."""
    from mlrelay.costs import estimate, prices
    from mlrelay.run_usage import run_usage

    step_function = info.functions["inference_step" if detail.summary.workflow == "inference" else "training_step"]
    return estimate(run_usage(detail, client, step_function), prices())
