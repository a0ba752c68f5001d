"""From `mlrelay init` to a promoted model, for each template, on a fresh embedded stack.

What a data scientist waits for when starting a use case: `mlrelay init NAME
--template T`, then `mlrelay submit NAME --data NAME/data/sample.csv`, which
returns once the model is registered. Both run as the user runs them, as
`mlrelay` processes talking to the stack this script starts. Side by side, the
baseline: the template's own test (`python -m pytest NAME/tests`), which trains
and serves the same code on the same table with no AWS and no orchestration.

    .venv/bin/python benchmarks/template_time.py [--templates regression ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlrelay.local.stack import EmbeddedStack  # noqa: E402
from mlrelay.local.state_file import STATE_FILE_ENV, write_state  # noqa: E402
from mlrelay.templates import TEMPLATES  # noqa: E402

MLRELAY = str(Path(sys.executable).with_name("mlrelay"))


def timed(command: list[str], environment: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    took = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stdout}{finished.stderr}")
    return took, finished.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", nargs="+", default=list(TEMPLATES), choices=list(TEMPLATES))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, EmbeddedStack(log_dir=Path(scratch) / "logs") as stack:
        state = Path(scratch) / "local.json"
        environment = {**os.environ, STATE_FILE_ENV: str(state), "COLUMNS": "200"}
        os.environ[STATE_FILE_ENV] = str(state)
        write_state(stack.info)  # the running stack, for the mlrelay processes
        print(f"{'template':24} {'init':>7} {'own test':>9} {'submit → promoted':>18} {'init → promoted':>16}  outcome")
        for index, template in enumerate(options.templates):
            name = f"bench-{index}-{template}"
            folder = Path(scratch) / name
            init, _ = timed([MLRELAY, "init", name, "--template", template, "--directory", scratch], environment)
            own, _ = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")], environment)
            submit, printed = timed([MLRELAY, "submit", str(folder), "--data", str(folder / "data" / "sample.csv")], environment)
            outcome = next((line.strip() for line in printed.splitlines() if f"{name} v1:" in line), "no registration printed")
            print(f"{template:24} {init:6.1f}s {own:8.1f}s {submit:17.1f}s {init + submit:15.1f}s  {outcome}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
