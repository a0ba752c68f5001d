"""Python environments for a code bundle's requirements.txt, as SageMaker's framework containers install them.

A framework container has its framework preinstalled and pip-installs the
bundle's requirements.txt before running the code. Locally, an environment is a
venv whose site-packages also sees this interpreter's (the frameworks mlrelay
runs locally: scikit-learn, XGBoost, pandas), with the requirements installed
on top. It is cached by the requirements' content, so a second run of the same
requirements installs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "MLRELAY_ENV_CACHE"  # where environments are kept (default ~/.cache/mlrelay/envs)
READY = ".mlrelay-ready"


class RequirementsError(RuntimeError):
    """pip could not install the requirements; the message is pip's own last error line."""


@dataclass(frozen=True)
class PythonEnvironment:
    python: str
    installed: bool  # True when this call installed the requirements (a cache miss)
    seconds: float


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mlrelay" / "envs")


def environment_for(code_dir: Path, log: Path) -> PythonEnvironment:
    """The interpreter to run `code_dir` with: this one, or a cached environment with its requirements.txt."""
    started = time.monotonic()
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file() or not _has_requirements(requirements.read_text()):
        return PythonEnvironment(sys.executable, False, 0.0)
    digest = hashlib.sha256(f"{sys.version}\0{sys.prefix}\0".encode() + requirements.read_bytes()).hexdigest()[:16]
    directory = cache_root() / digest
    python = str(directory / "bin" / "python")
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two steps with the same requirements: one installs, the other waits
        if (directory / READY).exists():
            return PythonEnvironment(python, False, time.monotonic() - started)
        _create(directory)
        _install(python, requirements, log)
        (directory / READY).write_text(requirements.read_text())
    return PythonEnvironment(python, True, time.monotonic() - started)


def _has_requirements(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


def _create(directory: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(directory)], check=True, capture_output=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(directory), "platbase": str(directory)}))
    # The frameworks a container has preinstalled: this interpreter's packages, after the environment's own.
    (site / "_mlrelay_framework.pth").write_text(sysconfig.get_path("purelib") + "\n")


def _install(python: str, requirements: Path, log: Path) -> None:
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--disable-pip-version-check", "--no-input",
               "-r", str(requirements)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write("$ pip install -r requirements.txt\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, cwd=requirements.parent)
        out.write(result.stderr)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
        reason = next((line for line in reversed(lines) if line.startswith("ERROR")), lines[-1] if lines else "pip failed")
        raise RequirementsError(f"requirements.txt could not be installed: {reason}")
