"""Turning a config on someone's disk into what the trigger reads: the code folder packed and uploaded.

A config may name `model.source_dir`, a folder relative to the config file.
SageMaker cannot read it, so before the config is uploaded the folder is
packed as a content-addressed bundle (mlrelay/code_bundles.py), uploaded
unless it is there already, and the uploaded config names it as
`model.code_uri` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.config.parsing import ConfigError, ConfigProblem, load_document, parse_config, parse_new_config
from chalicelib.config.schema import ModelConfig, UserCode
from mlrelay.code_bundles import BundleError, SourceBundle, pack, upload


@dataclass(frozen=True)
class Submission:
    config: ModelConfig
    body: bytes  # what to upload: the config, with code_uri in place of source_dir
    bundle: SourceBundle | None
    bundle_uploaded: bool = False


def check(path: Path) -> tuple[ModelConfig, SourceBundle | None]:
    """The trigger's checks, and the local folder's: it exists, holds the entry point, packs."""
    raw = path.read_bytes()
    config = parse_new_config(raw, path.name)
    if not isinstance(config.model, UserCode) or config.model.source_dir is None:
        return config, None
    folder = (path.parent / config.model.source_dir).resolve()
    try:
        return config, pack(folder, config.model.entry_point)
    except BundleError as err:
        raise ConfigError([ConfigProblem("model.source_dir", str(err))]) from err


def prepare(path: Path, s3: Any, bucket: str) -> Submission:
    """Pack and upload the code folder (if the config names one) and rewrite the config to name the upload."""
    return publish(path, *check(path), s3, bucket)


def publish(path: Path, config: ModelConfig, bundle: SourceBundle | None, s3: Any, bucket: str) -> Submission:
    """`prepare` for a config `check` has already passed: uploads its bundle, rewrites it to name the upload."""
    if bundle is None:
        return Submission(config, path.read_bytes(), None)
    uploaded = upload(s3, bucket, bundle)
    document = load_document(path.read_bytes(), path.name)
    model = dict(document["model"])
    model.pop("source_dir")
    model["code_uri"] = bundle.uri(bucket)
    document["model"] = model
    if path.suffix.lower() == ".json":
        body = json.dumps(document, indent=2).encode()
    else:
        body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()
    return Submission(parse_config(body, path.name), body, bundle, uploaded)
