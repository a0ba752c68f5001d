"""Write statemachines/*.asl.json from the workflow definitions (`mlrelay statemachines build`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlrelay.asl.builder import INTEGRATIONS
from mlrelay.asl.deploy import deploy
from mlrelay.asl.inference import inference
from mlrelay.asl.resume_states import resume_states
from mlrelay.asl.segments import segments
from mlrelay.asl.training import training

STATEMACHINES_DIR = Path(__file__).resolve().parents[2] / "statemachines"
RESUME_STATES_FILE = Path(__file__).resolve().parents[2] / "chalicelib" / "resume" / "states.json"
WORKFLOWS: dict[str, Callable[[], dict[str, Any]]] = {
    "training": training, "inference": inference, "segments": segments, "deploy": deploy,
}


def render(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def build_state_machines(output_dir: Path = STATEMACHINES_DIR, resume_states_file: Path = RESUME_STATES_FILE) -> dict[str, Path]:
    """statemachines/<workflow>.asl.json for each workflow, and the state names a resume needs (chalicelib/resume/)."""
    written, definitions = {}, {}
    for name, build in WORKFLOWS.items():
        definitions[name] = build()
        path = output_dir / f"{name}.asl.json"
        path.write_text(render(definitions[name]))
        written[name] = path
    resume_states_file.write_text(render(resume_states(definitions)))
    written["resume states"] = resume_states_file
    return written


def with_integrations_resolved(definition_text: str, partition: str = "aws") -> str:
    """A definition with its service integrations' ARNs filled in as the template does (for statelint, which
    wants a Resource to be a URI, not a substitution)."""
    for name, integration in INTEGRATIONS.items():
        definition_text = definition_text.replace(f"${{{name}}}", f"arn:{partition}:states:::{integration}")
    return definition_text


def write_resolved(output_dir: Path, partition: str = "aws", source_dir: Path = STATEMACHINES_DIR) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source_dir.glob("*.asl.json")):
        target = output_dir / path.name
        target.write_text(with_integrations_resolved(path.read_text(), partition))
        written.append(target)
    return written
