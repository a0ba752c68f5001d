"""Python environments that run a job's code with the libraries of the image it names, as SageMaker's containers do.

A framework container has its libraries preinstalled at the versions its build
pins, and pip-installs the bundle's requirements.txt before running the code.
Locally, each image gets an environment of its own: a venv that sees nothing of
this interpreter's packages, with the image's pins (mlrelay/local/image_libraries.py)
and the container modules examples import, built once and cached. A bundle with
requirements gets a second venv on top of its image's, cached by the requirements'
content, so a second run of the same requirements installs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlrelay.local import container_modules
from mlrelay.local.image_libraries import ImageLibraries

CACHE_ENV = "MLRELAY_ENV_CACHE"  # where requirements' environments are kept (default ~/.cache/mlrelay/envs)
IMAGE_CACHE_ENV = "MLRELAY_IMAGE_ENVS"  # where the images' environments are kept (default ~/.cache/mlrelay/images)
READY = ".mlrelay-ready"


class RequirementsError(RuntimeError):
    """pip could not install the requirements; the message is pip's own last error line."""


class ImageEnvironmentError(RequirementsError):
    """An image's environment could not be built: its pinned libraries, not the bundle's requirements."""


@dataclass(frozen=True)
class PythonEnvironment:
    python: str
    installed: bool  # True when this call installed the requirements (a cache miss)
    seconds: float
    image_built: bool = False  # True when this call built the image's environment


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mlrelay" / "envs")


def image_cache_root() -> Path:
    return Path(os.environ.get(IMAGE_CACHE_ENV) or Path.home() / ".cache" / "mlrelay" / "images")


def image_environment_path(image: ImageLibraries) -> Path:
    return image_cache_root() / f"{image.framework}-{image.version}-{image.digest()}"


def image_environment(image: ImageLibraries, log: Path, progress: Callable[[str], None] = lambda line: None) -> tuple[str, bool]:
    """(the interpreter of the image's environment, whether this call built it)."""
    directory = image_environment_path(image)
    python = str(directory / "bin" / "python")

    def build() -> None:
        progress(f"building the {image.name} environment: {', '.join(image.requirements())}")
        try:
            _create(directory)
            _install(python, image.requirements(), log, f"the {image.name} image's libraries")
        except RequirementsError as err:
            raise ImageEnvironmentError(str(err)) from err
        site = _site_packages(directory)
        container_modules.install(image.stand_ins, site)
        if image.patch_sagemaker_containers:
            _patch_mapping(site)

    return python, _cached(directory, build)


def environment_for(code_dir: Path, log: Path, image: ImageLibraries) -> PythonEnvironment:
    """The interpreter to run `code_dir` with: its image's environment, or one with its requirements.txt on top."""
    started = time.monotonic()
    base_python, built = image_environment(image, log)
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file() or not _has_requirements(requirements.read_text()):
        return PythonEnvironment(base_python, False, time.monotonic() - started, built)
    digest = hashlib.sha256(f"{base_python}\0".encode() + requirements.read_bytes()).hexdigest()[:16]
    directory = cache_root() / digest

    def build() -> None:
        _create(directory)
        # the image's libraries, after the environment's own: a requirement pinning another version wins, as in the container
        (_site_packages(directory) / "_mlrelay_image.pth").write_text(f"{_site_packages(Path(base_python).parents[1])}\n")
        _install(str(directory / "bin" / "python"), ["-r", str(requirements)], log, "requirements.txt", cwd=code_dir)

    installed = _cached(directory, build)
    return PythonEnvironment(str(directory / "bin" / "python"), installed, time.monotonic() - started, built)


def _cached(directory: Path, build: Callable[[], None]) -> bool:
    """Build `directory` unless it is ready; True when this call built it. Two jobs wanting it: one builds, one waits."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (directory / READY).exists():
            return False
        build()
        (directory / READY).touch()
    return True


def _has_requirements(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


def _site_packages(directory: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(directory), "platbase": str(directory)}))


def _create(directory: Path) -> None:
    """A venv with pip and setuptools, as the images have them (code may run pip, or import pkg_resources)."""
    result = subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RequirementsError(f"python -m venv {directory} failed: {(result.stderr or result.stdout).strip()[-300:]}")


def _install(python: str, arguments: list[str], log: Path, what: str, cwd: Path | None = None) -> None:
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--disable-pip-version-check", "--no-input",
               *arguments]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"$ pip install {' '.join(arguments)}\n")
        out.flush()
        # a requirement's relative path is the bundle's
        result = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, cwd=cwd or log.parent)
        out.write(result.stderr)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
        reason = next((line for line in reversed(lines) if line.startswith("ERROR")), lines[-1] if lines else "pip failed")
        raise RequirementsError(f"{what} could not be installed: {reason}")


def _patch_mapping(site: Path) -> None:
    """As the XGBoost 3.0-5 image's Dockerfile does: sagemaker-containers imports collections.Mapping, gone since 3.10."""
    mapping = site / "sagemaker_containers" / "_mapping.py"
    if mapping.is_file():
        mapping.write_text(mapping.read_text().replace("collections.Mapping", "collections.abc.Mapping"))

