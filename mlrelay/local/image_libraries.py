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

        content = "\n".join([sys.version, sys.prefix, *self.requirements(), container_modules.digest(self.stand_ins),
                             str(self.patch_sagemaker_containers)])
        return hashlib.sha256(content.encode()).hexdigest()[:12]


# What the images' requirements.txt pin besides the frameworks: the modules their serving and training code import
# (sagemaker-containers' beta.framework needs Flask, Werkzeug, gevent, protobuf). Left out of every image: the model
# servers (multi-model-server, model-archiver), GPU and cluster libraries (dask, dask-cuda, cuda-python, pynvml) and
# plotting (matplotlib, Pillow), which no container module imports; a bundle's requirements.txt adds what it needs.
_SKLEARN_SERVING = (
    "sagemaker-training==4.8.0", "sagemaker-containers==2.8.6.post2", "sagemaker-inference==1.2.0", "boto3==1.28.57",
    "botocore>=1.31.57,<1.32.0", "Flask==1.1.1", "itsdangerous==2.0.1", "gunicorn==23.0.0", "protobuf==3.20.2",
    "psutil==5.7.2", "python-dateutil==2.8.1", "retrying==1.3.3", "urllib3==1.26.17", "six==1.15.0", "jinja2==3.0.3",
    "MarkupSafe==2.1.1", "gevent==23.9.1", "Werkzeug==2.0.3", "setuptools", "wheel",
)
_XGBOOST_SERVING = (
    "sagemaker-containers==2.8.6.post2", "sagemaker-inference==1.5.5", "boto3==1.17.52", "botocore==1.20.52",
    "Flask==1.1.1", "itsdangerous==2.0.1", "gunicorn==23.0.0", "retrying==1.3.3", "urllib3==1.26.5", "jinja2==2.11.3",
    "MarkupSafe==1.1.1", "Werkzeug==0.15.6", "certifi==2023.7.22", "gevent==23.9.1",
)
IMAGES: dict[tuple[str, str], ImageLibraries] = {
    ("sklearn", "1.2-1"): ImageLibraries(
        "sklearn", "1.2-1", "3.9",
        ("scikit-learn==1.2.1", "numpy==1.24.1", "pandas==1.1.3", "scipy==1.8.0", *_SKLEARN_SERVING),
        {"pandas==1.1.3": ("pandas==1.5.0", NO_WHEEL), "scipy==1.8.0": ("scipy==1.9.2", NO_WHEEL),
         "psutil==5.7.2": ("psutil==5.9.4", NO_WHEEL), "MarkupSafe==2.1.1": ("MarkupSafe==2.1.2", NO_WHEEL)},
        patch_sagemaker_containers=True,
    ),
    ("xgboost", "1.7-1"): ImageLibraries(
        "xgboost", "1.7-1", "3.9",
        ("xgboost==1.7.4", "numpy==1.24.1", "pandas==1.2.4", "scipy==1.8.0", "scikit-learn==0.24.1", "pyarrow==14.0.1",
         "protobuf==3.20.1", "psutil==5.6.7", "python-dateutil==2.8.1", "requests==2.29.0", "PyYAML==5.4.1",
         "numba==0.58.1", "wheel==0.36.2", *_XGBOOST_SERVING),
        {"pandas==1.2.4": ("pandas==1.5.0", NO_WHEEL), "scipy==1.8.0": ("scipy==1.9.2", NO_WHEEL),
         "scikit-learn==0.24.1": ("scikit-learn==1.1.3", NO_WHEEL), "psutil==5.6.7": ("psutil==5.9.4", NO_WHEEL),
         "PyYAML==5.4.1": ("PyYAML==6.0.1", NO_WHEEL)},
        stand_ins=("sagemaker_xgboost_container", "sagemaker_algorithm_toolkit"), patch_sagemaker_containers=True,
    ),
    ("xgboost", "3.0-5"): ImageLibraries(
        "xgboost", "3.0-5", "3.10",
        ("xgboost==3.0.5", "numpy==2.1.0", "pandas==2.2.3", "scipy==1.15.0", "scikit-learn==1.5.2", "pyarrow==22.0.0",
         # the final Dockerfile's "protobuf>=3.20.0,<=3.20.3", which sagemaker-containers' generated code imports with
         "protobuf==3.20.3", "psutil==5.8.0", "python-dateutil==2.8.2", "requests==2.32.3", "PyYAML==6.0.1",
         "numba==0.61.0", "wheel==0.46.2", "setuptools<81", *_XGBOOST_SERVING),
        {"xgboost==3.0.5": ("xgboost-cpu==3.0.5", "the same release without its GPU library (NCCL), which no CPU job loads"),
         "psutil==5.8.0": ("psutil==5.9.4", NO_WHEEL)},
        stand_ins=("sagemaker_xgboost_container", "sagemaker_algorithm_toolkit"), patch_sagemaker_containers=True,
    ),
    # numpy, pandas, scipy and scikit-learn are unpinned in the image; the sagemaker SDK it installs ("sagemaker>=2,<3")
    # holds numpy at 1.26.4, and the others are the releases current when it was built (2025-02)
    ("pytorch", "2.6.0"): ImageLibraries(
        "pytorch", "2.6.0", "3.12",
        ("torch==2.6.0+cpu", "torchvision==0.21.0+cpu", "torchaudio==2.6.0+cpu", "numpy==1.26.4", "pandas==2.2.3",
         "scipy==1.15.2", "scikit-learn==1.6.1", "sagemaker-training==5.0.0", "sagemaker-pytorch-inference==2.0.25"),
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
