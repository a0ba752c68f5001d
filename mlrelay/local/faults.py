"""One fault plan for the local stack: every kind of failure tests and the demo inject, and one clear().

- a Task state's attempts fail with a chosen error before the state calls its
  service (like Step Functions Local's mocked "Throw", but after `times`
  failures the state calls through, so a fault can be transient or permanent);
- a pipeline step fails (as a script error would);
- a pipeline's status events are lost;
- a pipeline ends before its workflow starts waiting for it (the race the
  callback handshake covers), optionally changing its outputs first;
- the warehouse refuses a statement with the database's error;
- Slack answers an error (429 with Retry-After, 500, or down until removed);
- S3 is slow to answer reads of one object (a bucket on the far side of a bad network);
- Step Functions refuses the answer to a waiting task (SendTaskSuccess/Failure) with an error;
- DynamoDB holds conditional writes to a table until several have come (two consumers at the same moment).

Faults are matched by run: an execution name or pipeline description (both
start with the run id) starting with `run_prefix`. A fault's count is shared
by every execution of that run, so "fail once" still holds when it is resumed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

PERMANENT_ERROR = "Injected.PermanentFailure"  # matches no Retry, so the first failure is caught


@dataclass
class Fault:
    kind: str  # state | pipeline_step | lost_events | early_end | statement | slack | slow_read | callback | hold
    run_prefix: str
    target: str  # the state, step or SQL fragment it applies to ("" for all)
    remaining: int | None  # occurrences still to fail; None: every one until removed
    error: str = ""
    cause: str = ""
    status: int = 0  # Slack's HTTP status
    delay_seconds: float = 0.0  # slow_read: how long S3 takes to answer
    retry_after: int | None = None
    then: Callable[[str], None] | None = None  # early_end: runs with the run id once the pipeline has ended
    barrier: threading.Barrier | None = None  # hold: the writes held meet there


@dataclass(frozen=True)
class FiredFault:
    run: str  # the execution name or pipeline description it hit
    kind: str
    target: str
    error: str


@dataclass
class FaultPlan:
    fired: list[FiredFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    # --- injecting ------------------------------------------------------------

    def fail_state(
        self, run_prefix: str, state: str, error: str = PERMANENT_ERROR, cause: str | None = None, times: int | None = None,
    ) -> Fault:
        """Make `state` fail with `error` in runs whose execution name starts with `run_prefix`."""
        return self._add(Fault("state", _required(run_prefix), state, times, error, cause or f"injected failure of {state}"))

    def fail_pipeline_step(self, run_prefix: str, step: str, times: int | None = 1) -> Fault:
        """The step's work fails as a script error would (AlgorithmError)."""
        return self._add(Fault("pipeline_step", _required(run_prefix), step, times, f"AlgorithmError: injected failure of step {step}"))

    def lose_status_events(self, run_prefix: str) -> Fault:
        """The run's pipeline executions emit no status-change events: only the wait's timeout ends the run."""
        return self._add(Fault("lost_events", _required(run_prefix), "", None))

    def end_pipeline_early(self, run_prefix: str, then: Callable[[str], None] | None = None) -> Fault:
        """The run's pipelines end (and `then(run_id)` runs) before the workflow starts waiting for them."""
        return self._add(Fault("early_end", _required(run_prefix), "", None, then=then))

    def refuse_statement(self, sql_containing: str, error: str, run_id: str | None = None, times: int = 1) -> Fault:
        """The warehouse fails the next statement with a part containing `sql_containing` (mentioning `run_id`)."""
        return self._add(Fault("statement", run_id or "", sql_containing, times, error))

    def fail_slack(self, status: int = 503, retry_after: int | None = None, times: int | None = 1) -> Fault:
        """Slack answers `status` to the next `times` posts (None: every post until the fault is removed)."""
        return self._add(Fault("slack", "", "", times, status=status, retry_after=retry_after))

    def slow_reads(self, bucket: str, key: str, seconds: float) -> Fault:
        """GETs of s3://bucket/key answer only after `seconds`, until the fault is removed."""
        return self._add(Fault("slow_read", bucket, key, None, delay_seconds=seconds))

    def refuse_callbacks(self, run_prefix: str, error: str = "InvalidOutput", times: int | None = 1) -> Fault:
        """SendTaskSuccess/SendTaskFailure for a waiting task of the run fail with `error` (a 400, which boto3 does
        not retry), so the caller's own retry is what delivers."""
        return self._add(Fault("callback", _required(run_prefix), "", times, error, f"injected refusal of the callback ({error})"))

    def hold_writes(self, table: str, condition_containing: str, parties: int = 2, seconds: float = 10.0) -> Fault:
        """The next `parties` conditional writes to `table` whose condition contains `condition_containing` wait until
        all have come (at most `seconds`), then go on together: a race made to happen."""
        barrier = threading.Barrier(parties, timeout=seconds)
        return self._add(Fault("hold", _required(table), condition_containing, parties, barrier=barrier))

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- consulted by the emulated services -----------------------------------

    def state_fault(self, execution_name: str, state: str) -> Fault | None:
        return self._take("state", lambda f: f.target == state and execution_name.startswith(f.run_prefix), execution_name)

    def pipeline_step_fault(self, description: str, step: str) -> Fault | None:
        return self._take("pipeline_step", lambda f: f.target == step and description.startswith(f.run_prefix), description)

    def loses_status_events(self, description: str) -> bool:
        return self._take("lost_events", lambda f: description.startswith(f.run_prefix), description) is not None

    def early_end(self, description: str) -> Fault | None:
        return self._take("early_end", lambda f: description.startswith(f.run_prefix), description)

    def statement_refusal(self, sql_parts: list[str], texts: list[str]) -> Fault | None:
        """`texts`: everything the statement says (its SQL and parameters), searched for the fault's run id."""
        return self._take(
            "statement",
            lambda f: any(f.target in sql for sql in sql_parts) and (not f.run_prefix or any(f.run_prefix in t for t in texts)),
            " ".join(sql_parts)[:200],
        )

    def callback_refusal(self, execution_name: str) -> Fault | None:
        return self._take("callback", lambda f: execution_name.startswith(f.run_prefix), execution_name)

    def write_hold(self, table: str, condition: str) -> Fault | None:
        return self._take("hold", lambda f: f.run_prefix == table and f.target in condition, table)

    def slack_response(self) -> Fault | None:
        return self._take("slack", lambda f: True, "slack")

    def read_delay(self, bucket: str, key: str) -> float:
        fault = self._take("slow_read", lambda f: (f.run_prefix, f.target) == (bucket, key), f"s3://{bucket}/{key}")
        return fault.delay_seconds if fault else 0.0

    def fired_in(self, run_prefix: str, kind: str = "state") -> list[FiredFault]:
        with self._lock:
            return [f for f in self.fired if f.kind == kind and f.run.startswith(run_prefix)]

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def _take(self, kind: str, matches: Callable[[Fault], bool], run: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind != kind or fault.remaining == 0 or not matches(fault):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                if kind in ("state", "pipeline_step", "statement", "slack", "callback", "hold"):
                    self.fired.append(FiredFault(run, kind, fault.target, fault.error or str(fault.status)))
                return fault
        return None


def _required(run_prefix: str) -> str:
    if not run_prefix:
        raise ValueError("a fault needs a run prefix, so that it cannot hit other runs")
    return run_prefix
