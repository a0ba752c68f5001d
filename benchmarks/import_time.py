"""Cold-start import cost of the Lambda handlers, and the IAM wildcards, measured on the real package.

Builds the template and the Lambda zip as `make package` does, unpacks the zip,
and imports `app` with `python -X importtime` in a virtualenv holding only what
the Lambda Python runtime ships (boto3). Prints the zip size, the import time
(median of several runs), any heavy library the import pulled in, and the IAM
statements with wildcards (target: none outside mlrelay/iam_check.py's list).

    .venv/bin/python benchmarks/import_time.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mlrelay.iam_check import statements, unexcused, wildcards  # noqa: E402
from mlrelay.packaging import package  # noqa: E402

BUILD = ROOT / "build"
RUNTIME_VENV = BUILD / "lambda-runtime-venv"
HEAVY = {"sagemaker", "pandas", "numpy", "moto", "duckdb", "pyarrow", "sklearn"}
BOTO3_PIN = re.search(r"^boto3==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="import runs to take the median of")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()

    print(f"building the package (make package STAGE={args.stage})…", flush=True)
    built = package(args.stage, BUILD / "package" / args.stage)
    zip_path = built.zip_file
    template = json.loads(built.template.read_text())
    with_wildcards = [(name, s.get("Sid")) for name, s in statements(template) if wildcards(s)]
    outside = unexcused(template)
    python = _runtime_python()

    with tempfile.TemporaryDirectory() as unpacked:
        zipfile.ZipFile(zip_path).extractall(unpacked)
        timings, modules = [], set()
        for _ in range(args.runs):
            microseconds, loaded = _import_app(python, Path(unpacked))
            timings.append(microseconds)
            modules = loaded

    heavy = sorted(modules & HEAVY)
    print(f"lambda zip: {zip_path.stat().st_size / 1e6:.2f} MB ({zip_path.relative_to(ROOT)})")
    print(f"import app: median {statistics.median(timings) / 1000:.0f} ms over {args.runs} runs "
          f"(min {min(timings) / 1000:.0f}, max {max(timings) / 1000:.0f}); {len(modules)} top-level modules")
    print(f"heavy libraries imported: {', '.join(heavy) if heavy else 'none'}")
    total = sum(1 for _ in statements(template))
    print(f"IAM statements: {total}; with a wildcard: {len(with_wildcards)} "
          f"({', '.join(sorted({sid for _, sid in with_wildcards}))}); outside the exception list: {len(outside)}")
    if heavy or outside:
        sys.exit(1)


def _runtime_python() -> Path:
    """A virtualenv with only boto3, as the Lambda Python 3.11 runtime provides."""
    python = RUNTIME_VENV / "bin" / "python"
    if not python.exists():
        venv.create(RUNTIME_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"boto3=={BOTO3_PIN}"], check=True)
    return python


def _import_app(python: Path, package: Path) -> tuple[int, set[str]]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(package), "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [str(python), "-X", "importtime", "-c", "import app"], cwd=package, env=env,
        capture_output=True, text=True, check=True,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    rows = [line.split("|") for line in lines[1:]]  # first line is the header
    modules = {row[2].strip().split(".")[0] for row in rows}
    app_row = next(row for row in reversed(rows) if row[2].strip() == "app")
    return int(app_row[1]), modules


if __name__ == "__main__":
    main()
