"""Injected failures of Task states in the local stack's workflows (tests and the demo).

The same idea as Step Functions Local's mocked "Throw" responses, but in front
of the real integration instead of replacing it: a fault makes a Task state's
attempt fail with a chosen error before the state calls its service. After
`times` failed attempts the state calls through as usual, so a fault can be
transient (retried by the state's own Retry) or permanent (caught, alerted).

A fault is matched by execution name prefix (a run id) and state name, and its
count is shared by every execution of that run, so "fail once" still holds
when the run is resumed in a new execution.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

PERMANENT_ERROR = "Injected.PermanentFailure"  # matches no Retry, so the first failure is caught


@dataclass
class Fault:
    run_prefix: str
    state: str
    error: str
    cause: str
    remaining: int | None  # attempts still to fail; None fails every attempt


@dataclass(frozen=True)
class FiredFault:
    execution_name: str
    state: str
    error: str


@dataclass
class FaultPlan:
    fired: list[FiredFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        run_prefix: str,
        state: str,
        error: str = PERMANENT_ERROR,
        cause: str | None = None,
        times: int | None = None,
    ) -> Fault:
        """Make `state` fail with `error` in runs whose execution name starts with `run_prefix`."""
        if not run_prefix or not state:
            raise ValueError("a fault needs a run prefix and a state name, so that it cannot hit other runs")
        fault = Fault(run_prefix, state, error, cause or f"injected failure of {state}", times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, execution_name: str, state: str) -> Fault | None:
        """The fault this attempt of `state` must fail with, if any (counts the attempt)."""
        with self._lock:
            for fault in self._faults:
                if fault.state != state or not execution_name.startswith(fault.run_prefix):
                    continue
                if fault.remaining == 0:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                self.fired.append(FiredFault(execution_name, state, fault.error))
                return fault
        return None

    def fired_in(self, run_prefix: str) -> list[FiredFault]:
        with self._lock:
            return [f for f in self.fired if f.execution_name.startswith(run_prefix)]
