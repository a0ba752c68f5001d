"""What a team's requirements.txt costs a pipeline step: a first install against a cached environment.

The local runner gives code with a requirements.txt a Python environment of
its own (mlrelay/local/user_env.py), cached by the requirements' content. This
prints, side by side in one run, the time to get the interpreter for a bundle:
without requirements (the baseline), with requirements on an empty cache (pip
installs them), and the same requirements again (the cache answers). Then it
runs the bundle's script once in each, so the overhead is seen next to a
step's own start-up. Needs PyPI (pip downloads the requirement).

    .venv/bin/python benchmarks/user_env.py [--requirement tabulate==0.9.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlrelay.local.user_env import CACHE_ENV, environment_for  # noqa: E402

SCRIPT = "import {module}\nimport sklearn, pandas  # what a framework container has preinstalled\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirement", default="tabulate==0.9.0", help="one pip requirement the bundle lists")
    parser.add_argument("--repeat", type=int, default=3, help="cached look-ups to take the median of")
    options = parser.parse_args()
    module = options.requirement.split("==")[0].replace("-", "_")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ[CACHE_ENV] = str(root / "envs")
        bare, needs = root / "bare", root / "needs"
        for folder, script in ((bare, SCRIPT.format(module="json")), (needs, SCRIPT.format(module=module))):
            folder.mkdir()
            (folder / "train.py").write_text(script)
        (needs / "requirements.txt").write_text(options.requirement + "\n")
        log = root / "step.log"

        baseline = _median(lambda: environment_for(bare, log), options.repeat)
        first = environment_for(needs, log)
        if not first.installed:
            sys.exit("the first look-up did not install: the cache was not empty")
        cached = _median(lambda: environment_for(needs, log), options.repeat)
        bare_run = _run_seconds(sys.executable, bare)
        env_run = _run_seconds(environment_for(needs, log).python, needs)

    print(f"requirements.txt: {options.requirement}")
    print(f"{'interpreter for the step':<38} {'seconds':>8}")
    print(f"{'no requirements (baseline)':<38} {baseline:>8.3f}")
    print(f"{'first install (empty cache)':<38} {first.seconds:>8.3f}")
    print(f"{'cached (median of ' + str(options.repeat) + ')':<38} {cached:>8.3f}")
    print(f"{'script start-up, this interpreter':<38} {bare_run:>8.3f}")
    print(f"{'script start-up, cached environment':<38} {env_run:>8.3f}")
    print(f"cached over baseline: {cached - baseline:+.3f} s per step; first install: {first.seconds - cached:.1f} s once")


def _median(look_up, repeat: int) -> float:
    return statistics.median(look_up().seconds for _ in range(repeat))


def _run_seconds(python: str, folder: Path) -> float:
    started = time.monotonic()
    subprocess.run([python, str(folder / "train.py")], check=True)
    return time.monotonic() - started


if __name__ == "__main__":
    main()
