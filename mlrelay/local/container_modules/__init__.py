"""The emulator's stand-ins for container modules that examples import and PyPI has no working release of.

Each folder here is a top-level module of a SageMaker container, written for the
embedded stack with the functions examples use, behaving as the container's own
on one host. An image's environment gets a copy of those its image has
(mlrelay/local/image_libraries.py); they never run on AWS, where the container's
own modules do.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _files(name: str) -> list[Path]:
    return sorted(p for p in (HERE / name).rglob("*.py"))


def digest(names: tuple[str, ...]) -> str:
    """Changes when one of these stand-ins does, so that the environments that have it are built again."""
    content = hashlib.sha256()
    for name in names:
        for path in _files(name):
            content.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return content.hexdigest()[:12]


def install(names: tuple[str, ...], site_packages: Path) -> None:
    for name in names:
        target = site_packages / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for path in _files(name):
            destination = target / path.relative_to(HERE / name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
