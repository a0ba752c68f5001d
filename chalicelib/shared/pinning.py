"""Pinned inputs: a run's table and code bundle copied, as they were when it started, to keys nobody writes again.

SageMaker reads an S3 URI's current objects and cannot be given an object version, so a retry or a resume of a
run reading `data.uri` would read whatever was uploaded there since. A run reads a copy instead, under
inputs/<kind>/<digest>/, named by the source URI and what it held (the same table read twice is copied once),
with a manifest of every file's version beside it: what a version's lineage records (chalicelib/training/lineage.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import NotFoundError

if TYPE_CHECKING:
    from chalicelib.shared.adapters import ObjectStore

PINS_PREFIX = "inputs"
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_COPY_BYTES = 5 * 1024**3  # one CopyObject's limit
# What the training step copies within its time (chalicelib/training/steps.py): a larger table is read where it is.
MAX_PIN_FILES = 1000
MAX_PIN_BYTES = 10 * 1024**3


class InputTooLargeToPinError(ValueError):
    """More files or bytes than a run's first step copies, or a file over what one CopyObject copies."""


@dataclass(frozen=True)
class FileVersion:
    key: str
    version_id: str  # "null" in a bucket without versioning
    etag: str
    size: int


@dataclass(frozen=True)
class PinnedInput:
    source: str  # the URI as the config names it
    uri: str  # the copy the run reads: a prefix for a table, the object for a code bundle
    identity: str  # S3Objects.identity of the source when it was copied
    files: tuple[FileVersion, ...]
    header_sha256: str = ""  # a table's first line, as bytes
    sha256: str = ""  # a code bundle's bytes

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def manifest(self) -> dict[str, Any]:
        return {"source": self.source, "uri": self.uri, "identity": self.identity, "header_sha256": self.header_sha256,
                "sha256": self.sha256, "files": [asdict(f) for f in self.files]}

    @classmethod
    def from_manifest(cls, document: dict[str, Any]) -> PinnedInput:
        return cls(source=document["source"], uri=document["uri"], identity=document["identity"],
                   files=tuple(FileVersion(**f) for f in document["files"]), header_sha256=document.get("header_sha256", ""),
                   sha256=document.get("sha256", ""))


def pin_base(kind: str, source: str, identity: str) -> str:
    """The key prefix of the copy of `source` holding `identity` (kind: tables or code)."""
    digest = hashlib.sha256(f"{source}\x1f{identity}".encode()).hexdigest()[:32]
    return f"{PINS_PREFIX}/{kind}/{digest}"


def manifest_uri(pinned_uri: str) -> str:
    """The manifest beside a pinned copy's URI (tables: <base>/data/, code: <base>/<file>)."""
    base = pinned_uri.removesuffix("/").rsplit("/", 1)[0]
    return f"{base}/{MANIFEST}"


def read_manifest(s3: ObjectStore, pinned_uri: str) -> PinnedInput:
    """What a pinned copy holds, from the manifest beside it."""
    bucket, _, key = manifest_uri(pinned_uri).removeprefix("s3://").partition("/")
    try:
        return PinnedInput.from_manifest(s3.read_json(bucket, key, MAX_MANIFEST_BYTES))
    except NotFoundError as err:
        raise NotFoundError(f"the pinned copy {pinned_uri} has no manifest (s3://{bucket}/{key}): it was deleted, so what "
                            "it held cannot be read exactly again", err.code) from err


def is_pinned(uri: str, bucket: str) -> bool:
    return uri.startswith(f"s3://{bucket}/{PINS_PREFIX}/")


def copy_key(base: str, kind: str, source_key: str, source_prefix: str) -> str:
    """Where a source file goes: a table's files keep their path under the prefix (or their name) below data/."""
    if kind == "code":
        return f"{base}/{source_key.rsplit('/', 1)[-1]}"
    relative = source_key[len(source_prefix):].lstrip("/") if source_key != source_prefix else source_key.rsplit("/", 1)[-1]
    return f"{base}/data/{relative}"


def pinned_uri(bucket: str, base: str, kind: str, files: list[FileVersion], source_prefix: str) -> str:
    if kind == "code":
        return f"s3://{bucket}/{copy_key(base, kind, files[0].key, source_prefix)}"
    return f"s3://{bucket}/{base}/data/"


def check_pinnable(uri: str, files: list[FileVersion]) -> None:
    """Refuse what the run's first step cannot copy in its time, or at all (the caller then reads `uri` where it is)."""
    for f in files:
        if f.size > MAX_COPY_BYTES:
            raise InputTooLargeToPinError(f"{uri}: {f.key} is {f.size / 1024**3:.1f} GiB, over the 5 GiB one copy takes")
    total = sum(f.size for f in files)
    if len(files) > MAX_PIN_FILES or total > MAX_PIN_BYTES:
        raise InputTooLargeToPinError(
            f"{uri} holds {len(files):,} files, {total / 1024**3:.1f} GiB: over the {MAX_PIN_FILES:,} files or "
            f"{MAX_PIN_BYTES // 1024**3} GiB a run copies before it starts"
        )


def header_digest(first_bytes: bytes) -> str:
    return hashlib.sha256(first_bytes.split(b"\n", 1)[0].rstrip(b"\r")).hexdigest()
