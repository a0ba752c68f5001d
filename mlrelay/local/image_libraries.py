"""What each framework image mlrelay resolves brings, and what the embedded stack installs to run code as it would.

The pins are the images' own build pins, read from the containers' sources
(aws/sagemaker-scikit-learn-container branch 1.2-1, aws/sagemaker-xgboost-container
branches 1.7-1 and release-3.0.5, aws/deep-learning-containers pytorch/*/docker/2.6).
This machine runs Python 3.11, not the images' Python: where a pinned release has
no wheel for Python 3.11, the nearest release that has one stands in, and says so.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from functools import cache

from chalicelib.shared.images import framework_and_version

NO_WHEEL = "has no wheel for Python 3.11: the nearest release that has one"


@dataclass(frozen=True)
class ImageLibraries:
    framework: str
    version: str
    python: str  # the image's Python
    pins: tuple[str, ...]  # name==version, as the image's build installs them
    substitutes: dict[str, tuple[str, str]] = field(default_factory=dict)  # pin -> (what is installed instead, why)
    # modules of the container that examples import and PyPI has no working release of: mlrelay's stand-ins
    stand_ins: tuple[str, ...] = ()
    # sagemaker-containers' collections.Mapping, which Python 3.10 removed: the 3.0-5 image's Dockerfile patches it so
    patch_sagemaker_containers: bool = False

    @property
    def name(self) -> str:
        return f"{self.framework} {self.version}"

    def requirements(self) -> list[str]:
        """What pip installs: the pins, each substitute in its pin's place."""
        return [self.substitutes.get(pin, (pin, ""))[0] for pin in self.pins]

    def digest(self) -> str:
        """Names the environment: its requirements, this interpreter, and what the stand-ins are."""
        from mlrelay.local import container_modules

        content = "\n".join([sys.version, sys.prefix, *self.requirements(), *self.stand_ins, container_modules.digest(),
                             str(self.patch_sagemaker_containers)])
        return hashlib.sha256(content.encode()).hexdigest()[:12]


# sagemaker-containers 2.8.6.post2: the module the scikit-learn and XGBoost images serve with, and that
# examples import (`from sagemaker_containers import entry_point`)
_CONTAINERS = "sagemaker-containers==2.8.6.post2"
IMAGES: dict[tuple[str, str], ImageLibraries] = {
    ("sklearn", "1.2-1"): ImageLibraries(
        "sklearn", "1.2-1", "3.9",
        ("scikit-learn==1.2.1", "numpy==1.24.1", "pandas==1.1.3", "scipy==1.8.0", "sagemaker-training==4.8.0", _CONTAINERS),
        {"pandas==1.1.3": ("pandas==1.5.0", NO_WHEEL), "scipy==1.8.0": ("scipy==1.9.2", NO_WHEEL)},
        patch_sagemaker_containers=True,
    ),
    ("xgboost", "1.7-1"): ImageLibraries(
        "xgboost", "1.7-1", "3.9",
        ("xgboost==1.7.4", "numpy==1.24.1", "pandas==1.2.4", "scipy==1.8.0", "scikit-learn==0.24.1", "pyarrow==14.0.1",
         _CONTAINERS),
        {"pandas==1.2.4": ("pandas==1.5.0", NO_WHEEL), "scipy==1.8.0": ("scipy==1.9.2", NO_WHEEL),
         "scikit-learn==0.24.1": ("scikit-learn==1.1.3", NO_WHEEL)},
        stand_ins=("sagemaker_xgboost_container",), patch_sagemaker_containers=True,
    ),
    ("xgboost", "3.0-5"): ImageLibraries(
        "xgboost", "3.0-5", "3.10",
        ("xgboost==3.0.5", "numpy==2.1.0", "pandas==2.2.3", "scipy==1.15.0", "scikit-learn==1.5.2", "pyarrow==22.0.0",
         _CONTAINERS),
        {"xgboost==3.0.5": ("xgboost-cpu==3.0.5", "the same release without its GPU libraries (NCCL), which no CPU job loads")},
        stand_ins=("sagemaker_xgboost_container",), patch_sagemaker_containers=True,
    ),
    # numpy, pandas, scipy and scikit-learn are unpinned in the image: the releases current when it was built (2025-02)
    ("pytorch", "2.6.0"): ImageLibraries(
        "pytorch", "2.6.0", "3.12",
        ("torch==2.6.0+cpu", "torchvision==0.21.0+cpu", "torchaudio==2.6.0+cpu", "numpy==2.2.3", "pandas==2.2.3",
         "scipy==1.15.2", "scikit-learn==1.6.1", "sagemaker-training==5.0.0"),
        {"torch==2.6.0+cpu": ("torch==2.6.0", "PyPI has the same release as a CUDA build only (about 5 GB), which runs on "
                                              "the CPU"),
         "torchvision==0.21.0+cpu": ("torchvision==0.21.0", "the CUDA build, to match torch"),
         "torchaudio==2.6.0+cpu": ("torchaudio==2.6.0", "the CUDA build, to match torch")},
    ),
}


class UnrunnableImageError(ValueError):
    """The embedded stack cannot run this image's code; the message says why and what runs it."""


@cache
def libraries_for(image_uri: str) -> ImageLibraries:
    """The libraries of a framework image mlrelay resolves, or why this machine cannot run its code."""
    known = framework_and_version(image_uri)
    if known is None:
        raise UnrunnableImageError(f"{image_uri} is not an image mlrelay resolves (a custom image): it runs on AWS, "
                                   "not on this machine")
    if known not in IMAGES:
        framework, version = known
        reason = ("its training image is GPU-only (SageMaker builds no CPU one)" if framework == "huggingface"
                  else "mlrelay has no pinned libraries for it")
        raise UnrunnableImageError(f"{framework} {version} code runs on AWS, not on this machine: {reason}")
    return IMAGES[known]
