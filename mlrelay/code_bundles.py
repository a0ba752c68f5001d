"""Code as it travels to SageMaker: a folder packed as sourcedir.tar.gz, addressed by its content.

The same folder always gives the same bytes (sorted names, zeroed times and
owners, gzip without a timestamp) and so the same key,
code/<digest>/sourcedir.tar.gz: an unchanged folder is not uploaded again,
and a model version that names its code URI names exactly the code that
trained it. Caches and version-control folders are left out.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCE_ARCHIVE = "sourcedir.tar.gz"  # the name SageMaker's framework containers expect
CODE_PREFIX = "code"
DIGEST_CHARS = 20
MAX_BUNDLE_BYTES = 100 * 1024 * 1024  # code, not data: larger means a data file went in by mistake
_LEFT_OUT_DIRS = {"__pycache__", ".git", ".venv", "venv", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_LEFT_OUT_SUFFIXES = (".pyc", ".pyo")


class BundleError(ValueError):
    """The folder cannot be packed as code."""


@dataclass(frozen=True)
class SourceBundle:
    digest: str
    archive: bytes
    files: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{CODE_PREFIX}/{self.digest[:DIGEST_CHARS]}/{SOURCE_ARCHIVE}"

    def uri(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.key}"


def pack(directory: Path, entry_point: str | None = None) -> SourceBundle:
    if not directory.is_dir():
        raise BundleError(f"{directory} is not a folder: model.source_dir must name the folder with your code")
    files = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_dir() or _left_out(relative):
            continue
        files[relative.as_posix()] = path.read_bytes()
    if entry_point is not None and entry_point not in files:
        raise BundleError(f"{directory} has no {entry_point}: model.entry_point must name a file inside model.source_dir")
    archive = reproducible_tar(files)
    if len(archive) > MAX_BUNDLE_BYTES:
        raise BundleError(f"{directory} packs to {len(archive):,} bytes; code bundles are at most {MAX_BUNDLE_BYTES:,} (is data in it?)")
    return SourceBundle(hashlib.sha256(archive).hexdigest(), archive, tuple(files))


def upload(s3: Any, bucket: str, bundle: SourceBundle) -> bool:
    """Put the bundle at its content address; False when it was there already."""
    try:
        s3.head_object(Bucket=bucket, Key=bundle.key)
        return False
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=bundle.key, Body=bundle.archive)
    return True


def reproducible_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    # gzip's header holds a timestamp: mtime=0 keeps the archive identical run to run.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, content in sorted(files.items()):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(content), 0, 0o644
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _left_out(relative: Path) -> bool:
    return any(part in _LEFT_OUT_DIRS for part in relative.parts) or relative.name.endswith(_LEFT_OUT_SUFFIXES)
