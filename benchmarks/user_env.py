"""What running a job's code with its image's libraries costs: each framework image's environment, first and cached.

The local runner runs training and transform code in an environment of the
image's pinned libraries (mlrelay/local/user_env.py, image_libraries.py), built
once from PyPI and cached; a bundle's requirements.txt adds a cached layer on top.
This prints, side by side in one run, for each image: the first build (an empty
cache), the cached look-up, the disk the environment takes, and a script's start
in it (importing the framework), beside the baseline of the same import with this
machine's own interpreter and libraries (what local jobs ran with before). Then a
requirements layer: its first install and its cached look-up. Needs PyPI.

    .venv/bin/python benchmarks/user_env.py [--image sklearn/1.2-1 ...] [--requirement tabulate==0.9.0] [--repeat 3]
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

from mlrelay.local.image_libraries import IMAGES  # noqa: E402
from mlrelay.local.user_env import CACHE_ENV, IMAGE_CACHE_ENV, environment_for, image_environment  # noqa: E402

IMPORTS = {"sklearn": "import sklearn.ensemble, pandas", "xgboost": "import xgboost, pandas", "pytorch": "import torch"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", action="append", default=[],
                        help="framework/version (repeatable) [default: every image mlrelay pins, PyTorch's 5 GB included]")
    parser.add_argument("--requirement", default="tabulate==0.9.0", help="one pip requirement a bundle lists")
    parser.add_argument("--repeat", type=int, default=3, help="cached look-ups and starts to take the median of")
    options = parser.parse_args()
    chosen = [IMAGES[tuple(name.split("/", 1))] for name in options.image] if options.image else list(IMAGES.values())  # type: ignore[index]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ[IMAGE_CACHE_ENV], os.environ[CACHE_ENV] = str(root / "images"), str(root / "envs")
        log = root / "build.log"
        print(f"{'image':<16} {'first build':>12} {'cached':>9} {'disk':>9} {'start, image':>13} {'start, this machine':>20}")
        for image in chosen:
            started = time.monotonic()
            python, built = image_environment(image, log)
            first = time.monotonic() - started
            if not built:
                sys.exit(f"{image.name}: the first look-up did not build: the cache was not empty")
            cached = _median(lambda image=image: _seconds(lambda: image_environment(image, log)), options.repeat)
            statement = IMPORTS[image.framework]
            in_image = _median(lambda python=python, statement=statement: _start(python, statement), options.repeat)
            here = _start(sys.executable, statement) if _importable(statement) else None
            print(f"{image.name:<16} {first:>10.1f} s {cached:>7.3f} s {_disk(Path(python).parents[1]):>9} "
                  f"{in_image:>11.2f} s {'not installed' if here is None else f'{here:.2f} s':>20}")
        _requirements_layer(root, chosen[0], options)


def _requirements_layer(root: Path, image, options: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    bundle = root / "bundle"
    bundle.mkdir()
    (bundle / "requirements.txt").write_text(options.requirement + "\n")
    log = root / "step.log"
    first = environment_for(bundle, log, image)
    cached = _median(lambda: environment_for(bundle, log, image).seconds, options.repeat)
    print(f"requirements.txt ({options.requirement}) on {image.name}: first install {first.seconds:.1f} s, "
          f"cached {cached:.3f} s")


def _seconds(call) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    call()
    return time.monotonic() - started


def _median(measure, repeat: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(measure() for _ in range(repeat))


def _start(python: str, statement: str) -> float:
    return _seconds(lambda: subprocess.run([python, "-c", statement], check=True))


def _importable(statement: str) -> bool:
    return subprocess.run([sys.executable, "-c", statement], capture_output=True).returncode == 0


def _disk(folder: Path) -> str:
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return f"{size / 1024**2:,.0f} MB"


if __name__ == "__main__":
    main()
