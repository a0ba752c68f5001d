"""The framework container images per region, read from the SageMaker SDK at build time.

The Lambda functions must not carry the SDK, so `mlrelay pipelines build`
writes the images mlrelay supports, for every region the SDK knows, to
chalicelib/shared/images.json; a test fails when it is stale.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

IMAGES_FILE = Path(__file__).resolve().parents[2] / "chalicelib" / "shared" / "images.json"
CPU, GPU = "ml.m5.large", "ml.g5.xlarge"
# framework -> version -> scope -> the SDK's retrieve() arguments besides region (one per processor)
SUPPORTED: dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]] = {
    "sklearn": {"1.2-1": {scope: {"cpu": {}} for scope in ("training", "inference")}},
    "xgboost": {v: {scope: {"cpu": {}} for scope in ("training", "inference")} for v in ("3.0-5", "1.7-1")},
    "pytorch": {"2.6.0": {scope: {p: {"instance_type": t, "py_version": "py312"} for p, t in (("cpu", CPU), ("gpu", GPU))}
                          for scope in ("training", "inference")}},
    "huggingface": {"4.49.0": {
        "training": {"gpu": {"instance_type": GPU, "py_version": "py311", "base_framework_version": "pytorch2.5.1"}},
        "inference": {p: {"instance_type": t, "py_version": "py312", "base_framework_version": "pytorch2.6.0"}
                      for p, t in (("cpu", CPU), ("gpu", GPU))},
    }},
}


def build_image_table(path: Path = IMAGES_FILE) -> Path:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    logging.getLogger("sagemaker").setLevel(logging.ERROR)
    table: dict[str, Any] = {"default_versions": {name: next(iter(versions)) for name, versions in SUPPORTED.items()}, "images": {}}
    with _each_sdk_file_read_once():
        for framework, versions in SUPPORTED.items():
            _add_framework(table, framework, versions)
    path.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return path


def _add_framework(table: dict[str, Any], framework: str, versions: dict[str, Any]) -> None:
    from sagemaker import image_uris

    for version, scopes in versions.items():
        for scope, processors in scopes.items():
            for processor, arguments in processors.items():
                by_region = {
                    region: image_uris.retrieve(framework, region=region, version=version, image_scope=scope, **arguments)
                    for region in _regions(framework, version, scope)
                }
                table["images"][f"{framework}/{version}/{scope}/{processor}"] = _compact(by_region)


@contextmanager
def _each_sdk_file_read_once() -> Iterator[None]:
    """retrieve() parses botocore's endpoints.json and the framework's JSON on every call (60 ms, 40 s for the
    whole table): parse each once. Build time only; the SDK's own functions still answer."""
    from sagemaker import image_uris, utils

    resolver = utils._botocore_resolver()
    parsed: dict[str, Any] = {}
    read_config = image_uris.config_for_framework

    def config_for_framework(framework: str) -> Any:
        if framework not in parsed:
            parsed[framework] = read_config(framework)
        return copy.deepcopy(parsed[framework])  # retrieve() may change what it is given

    with mock.patch.object(utils, "_botocore_resolver", return_value=resolver), \
            mock.patch.object(image_uris, "config_for_framework", config_for_framework):
        yield


def _regions(framework: str, version: str, scope: str) -> list[str]:
    from sagemaker import image_uris

    config = image_uris.config_for_framework(framework)
    entry = config[scope]["versions"][version] if scope in config else config["versions"][version]
    if "registries" not in entry:  # huggingface: one level down, per base framework
        entry = next(v for k, v in entry.items() if k != "version_aliases")
    return sorted(entry["registries"])


def _compact(by_region: dict[str, str]) -> dict[str, Any]:
    """{"path": "repo:tag", "registries": {region: account}}: the rest of the URI follows from the region."""
    paths = {uri.split("/", 1)[1] for uri in by_region.values()}
    if len(paths) != 1:
        raise ValueError(f"an image's name differs between regions: {sorted(paths)}")
    return {"path": paths.pop(), "registries": {region: uri.split(".", 1)[0] for region, uri in by_region.items()}}
