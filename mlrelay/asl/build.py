"""Write statemachines/*.asl.json from the workflow definitions (`mlrelay statemachines build`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlrelay.asl.inference import inference
from mlrelay.asl.segments import segments
from mlrelay.asl.training import training

STATEMACHINES_DIR = Path(__file__).resolve().parents[2] / "statemachines"
WORKFLOWS: dict[str, Callable[[], dict[str, Any]]] = {"training": training, "inference": inference, "segments": segments}


def render(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def build_state_machines(output_dir: Path = STATEMACHINES_DIR) -> dict[str, Path]:
    written = {}
    for name, build in WORKFLOWS.items():
        path = output_dir / f"{name}.asl.json"
        path.write_text(render(build()))
        written[name] = path
    return written
