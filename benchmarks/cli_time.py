"""How long a user waits for the CLI: `mlrelay --help` and `mlrelay config validate FILE`, against bare Python.

Each command runs as a user runs it (the installed `mlrelay` script, a fresh
process), `--repeat` times; the median is printed next to the baseline of
starting the same interpreter with nothing to do, and next to importing the
libraries the CLI stands on. Target: 0.5 s for both commands.

    .venv/bin/python benchmarks/cli_time.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLRELAY = str(Path(sys.executable).with_name("mlrelay"))
TARGET_SECONDS = 0.5


def median_seconds(command: list[str], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    cases = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"], None),
        ("python -c 'import typer, pydantic'", [sys.executable, "-c", "import typer, pydantic"], None),
        ("mlrelay --help", [MLRELAY, "--help"], TARGET_SECONDS),
        ("mlrelay config validate (JSON)", [MLRELAY, "config", "validate", "examples/configs/packaging-type.json"], TARGET_SECONDS),
        ("mlrelay config validate (YAML, code folder)", [MLRELAY, "config", "validate", "examples/shipping-weight/config.yaml"],
         TARGET_SECONDS),
    ]
    print(f"{'command':46} {'median':>8}  target")
    for name, command, target in cases:
        seconds = median_seconds(command, options.repeat)
        verdict = "" if target is None else ("ok" if seconds <= target else f"over {target} s")
        print(f"{name:46} {seconds:7.3f}s  {verdict}")
    print(f"median of {options.repeat}; machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
