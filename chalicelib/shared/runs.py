"""A run as the ledger knows it: the values the resume decision and the ledger adapter share."""

from __future__ import annotations

from dataclasses import dataclass

# The error of a run the embedded stack stopped while it ran: its execution ends aborted so, its ledger record says
# INTERRUPTED, and it resumes as a failed run does (mlrelay/local/durable/interrupted.py).
INTERRUPTED_ERROR = "mlrelay.Interrupted"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    workflow: str
    status: str
    execution_arn: str = ""
    failed_state: str = ""
    failed_execution_arn: str = ""
    resume_input: str = ""  # the failed step's whole input, as JSON
    resume_count: int = 0


@dataclass(frozen=True)
class ResumeEntry:
    """What the ledger records when a run is resumed."""

    run_id: str
    attempt: int
    execution_arn: str
    from_state: str
    config_changed: bool
    config_json: str  # the config reference the resumed execution uses
    at: str  # ISO time
    inputs_changed: tuple[str, ...] = ()  # "the table s3://…" the run read, holding something else now
    forget_steps: tuple[str, ...] = ()  # Lambda steps whose recorded output no longer holds: they work again
