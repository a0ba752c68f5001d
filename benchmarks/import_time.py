"""Cold-start import cost of the Lambda handlers, measured on the real package.

Builds the Lambda zip with `chalice package`, unpacks it, and imports `app`
with `python -X importtime` in a virtualenv holding only what the Lambda
Python runtime ships (boto3). Prints the zip size, the import time (median of
several runs) and any heavy library the import pulled in.

    .venv/bin/python benchmarks/import_time.py [--runs 7]
"""

from __future__ import annotations

import argparse
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
BUILD = ROOT / "build"
RUNTIME_VENV = BUILD / "lambda-runtime-venv"
HEAVY = {"sagemaker", "pandas", "numpy", "moto", "duckdb", "pyarrow", "sklearn"}
BOTO3_PIN = re.search(r"^boto3==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="import runs to take the median of")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()

    package_dir = BUILD / "package" / args.stage
    print(f"building the Lambda package (chalice package --stage {args.stage})…", flush=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run([str(chalice), "package", "--stage", args.stage, str(package_dir)], cwd=ROOT, env=env, check=True)
    zip_path = package_dir / "deployment.zip"
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
    if heavy:
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
