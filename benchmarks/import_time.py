"""Cold-start import cost of the Lambda handlers, and the IAM wildcards, measured on the real package.

Builds the template and the Lambda zip as `make package` does, unpacks the zip
read-only (as Lambda's /var/task is), and imports `app` with `python -B -X
importtime` (no bytecode written) in a virtualenv holding only what the Lambda
Python runtime ships (boto3). Side by side in the same run: a bare `import
boto3`, the baseline every function pays (target: `import app` within 1.5x of
it), and each function's whole cold start, `app` plus the package of its
handler, which app.py imports on the first invocation. Prints the zip size, the
medians, any heavy library the import pulled in, and the IAM statements with
wildcards (target: none outside mlrelay/iam_check.py's list).

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
# app.py's handlers import their packages on first use: a function's cold start is app plus this.
HANDLER_MODULES = {
    "on_config_dropped": "chalicelib.intake.handler", "on_inference_schedule": "chalicelib.inference.schedule",
    "on_pipeline_status": "chalicelib.pipeline_status.handler", "alerts": "chalicelib.alerts.handler",
    "check_daily_freshness": "chalicelib.inference.freshness", "training_step": "chalicelib.training.handler",
    "inference_step": "chalicelib.inference.handler", "resume_run": "chalicelib.resume.handler",
    "decide_model": "chalicelib.approvals.handler",
}
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
        task_root = Path(unpacked) / "task"
        zipfile.ZipFile(zip_path).extractall(task_root)
        _read_only(task_root)
        try:
            baseline = [_import_time(python, task_root, "boto3")[0] for _ in range(args.runs)]
            timings, modules = [], set()
            for _ in range(args.runs):
                microseconds, loaded = _import_time(python, task_root, "app")
                timings.append(microseconds)
                modules = loaded
            functions = {name: statistics.median(_import_time(python, task_root, "app", module)[0] for _ in range(args.runs))
                         for name, module in HANDLER_MODULES.items()}
        finally:
            _read_only(task_root, writable=True)

    heavy = sorted(modules & HEAVY)
    app_ms, boto3_ms = statistics.median(timings) / 1000, statistics.median(baseline) / 1000
    print(f"lambda zip: {zip_path.stat().st_size / 1e6:.2f} MB ({zip_path.relative_to(ROOT)}), unpacked read-only, no bytecode written")
    print(f"import boto3 (baseline): median {boto3_ms:.0f} ms over {args.runs} runs")
    print(f"import app: median {app_ms:.0f} ms over {args.runs} runs (min {min(timings) / 1000:.0f}, max {max(timings) / 1000:.0f}); "
          f"{app_ms / boto3_ms:.2f}x the baseline (target 1.5x); {len(modules)} top-level modules")
    print("each function's cold start, app and its handler's package (median ms, and x the baseline):")
    for name, microseconds in sorted(functions.items(), key=lambda item: -item[1]):
        print(f"  {name:24} {microseconds / 1000:6.0f} ms  {microseconds / 1000 / boto3_ms:.2f}x")
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


def _import_time(python: Path, package: Path, *modules: str) -> tuple[int, set[str]]:
    """Microseconds to import `modules` one after the other in a fresh interpreter, and the top-level modules loaded."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(package), "AWS_DEFAULT_REGION": "us-east-1"}
    code = ("import sys, time, json\nstarted = time.perf_counter()\n" + "".join(f"import {m}\n" for m in modules)
            + "print(json.dumps([round((time.perf_counter() - started) * 1e6), sorted({m.split('.')[0] for m in sys.modules})]))")
    result = subprocess.run([str(python), "-B", "-c", code], cwd=package, env=env, capture_output=True, text=True, check=True)
    microseconds, loaded = json.loads(result.stdout.splitlines()[-1])
    return int(microseconds), set(loaded)


def _read_only(root: Path, writable: bool = False) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


if __name__ == "__main__":
    main()
