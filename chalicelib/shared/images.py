"""SageMaker's framework container images, looked up without the SDK (images.json is built from it)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

IMAGES_FILE = Path(__file__).with_name("images.json")
GPU_FAMILIES = ("ml.p", "ml.g")  # instance families with GPUs
# mlrelay's own pipeline steps run in SageMaker's scikit-learn container, on this instance type.
PROCESSING_FRAMEWORK = ("sklearn", "1.2-1")
PROCESSING_INSTANCE = "ml.m5.large"


class UnknownImageError(ValueError):
    """No image for this framework, version, region or instance type."""


@cache
def _table() -> dict[str, Any]:
    return json.loads(IMAGES_FILE.read_text())


def default_version(framework: str) -> str:
    return str(_table()["default_versions"][framework])


def known_versions(framework: str) -> list[str]:
    return sorted({key.split("/")[1] for key in _table()["images"] if key.startswith(f"{framework}/")})


def image_uri(framework: str, version: str | None, scope: str, region: str, instance_type: str) -> str:
    """The framework's training or inference image for the instance type (CPU or GPU), in `region`."""
    version = version or default_version(framework)
    processor = "gpu" if instance_type.startswith(GPU_FAMILIES) else "cpu"
    images = _table()["images"]
    entry = images.get(f"{framework}/{version}/{scope}/{processor}")
    if entry is None:
        other = "cpu" if processor == "gpu" else "gpu"
        entry = images.get(f"{framework}/{version}/{scope}/{other}")
    if entry is None:
        raise UnknownImageError(
            f"mlrelay knows no {scope} image for {framework} {version}: known versions are "
            f"{', '.join(known_versions(framework))}, or give model.image_uri"
        )
    account = entry["registries"].get(region)
    if account is None:
        raise UnknownImageError(f"SageMaker has no {framework} {version} image in {region}; give model.image_uri")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{entry['path']}"


def processing_image(region: str) -> str:
    """The image mlrelay's own pipeline steps (split, evaluate, prepare, assemble) run in."""
    return image_uri(*PROCESSING_FRAMEWORK, "training", region, PROCESSING_INSTANCE)


def framework_and_version(uri: str) -> tuple[str, str] | None:
    """(framework, framework_version) of a known image; None for any other image."""
    path = uri.split("/", 1)[-1]
    for key, entry in _table()["images"].items():
        if entry["path"] == path:
            framework, version = key.split("/")[:2]
            return framework, version
    return None
