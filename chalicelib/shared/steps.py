"""How a state machine's Lambda step reaches its use case: one dispatch for every workflow.

The state's payload names its step; it is parsed into that step's model (a
discriminated union), the use case registered for the model runs with the
container's ports, its answer is checked against the step's result model
(chalicelib/shared/step_results.py), and the run ledger records it
(chalicelib/shared/step_ledger.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter

from chalicelib.shared.ports import Ports
from chalicelib.shared.step_ledger import recorded
from chalicelib.shared.step_results import StepResult

UseCase = Callable[[Any, Ports], dict[str, Any]]


def run_step(
    event: dict[str, Any], requests: TypeAdapter[Any], use_cases: Mapping[type[BaseModel], UseCase], ports: Ports,
    results: Mapping[str, type[StepResult]],
) -> dict[str, Any]:
    request = requests.validate_python(event)
    use_case, result = use_cases[type(request)], results[request.step]
    return recorded(ports, event, lambda: result.checked(use_case(request, ports)))
