"""Wall-clock time of `mlrelay demo` (target: under 2 minutes on the 2-core machine).

    .venv/bin/python benchmarks/demo_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mlrelay = Path(sys.executable).parent / "mlrelay"
    timings = []
    for attempt in range(1, args.runs + 1):
        started = time.perf_counter()
        result = subprocess.run([str(mlrelay), "demo"], cwd=ROOT, capture_output=True, text=True)
        timings.append(time.perf_counter() - started)
        print(f"run {attempt}: {timings[-1]:.1f}s, {'passed' if result.returncode == 0 else 'FAILED'}")
        if result.returncode:
            print(result.stdout[-2000:], file=sys.stderr)
            sys.exit(1)
    print(f"mlrelay demo: median {statistics.median(timings):.1f}s over {args.runs} runs "
          f"(min {min(timings):.1f}s, max {max(timings):.1f}s); target under 120s")


if __name__ == "__main__":
    main()
