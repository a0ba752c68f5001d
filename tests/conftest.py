"""Helpers shared by unit and functional tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
EXAMPLES = ROOT / "examples" / "configs"

if str(ROOT) not in sys.path:  # app.py lives at the project root, as Chalice wants it
    sys.path.insert(0, str(ROOT))


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/<name>.json (one per handler)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


# Small and quick to train: the tests are about the workflow, not the model.
FAST_MODEL = {"type": "sklearn.gradient_boosting", "hyperparameters": {"n_estimators": 20, "max_depth": 2}}


def valid_config(**overrides: Any) -> dict[str, Any]:
    """The example training config as a dict (with a quick model), top-level fields replaced."""
    document = json.loads((EXAMPLES / "packaging-type.json").read_text())
    document["model"] = FAST_MODEL
    # explanations cost each inference run time; tests/functional/test_explanations.py asks for them
    document.pop("monitoring", None)
    document.update(overrides)
    return document
