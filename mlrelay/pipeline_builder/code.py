"""The step scripts as they are shipped to S3: content-addressed, byte-for-byte reproducible.

The code prefix carries a hash of the scripts, so a pipeline definition names
exactly the code it was built for, and SageMaker's step cache (keyed on the
step's arguments) misses as soon as a script changes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "pipelines" / "scripts"
CODE_ROOT = "pipelines/code"
SOURCE_ARCHIVE = "sourcedir.tar.gz"  # the training job's and the model's source_dir


class StaleDefinitionError(RuntimeError):
    """A committed pipeline definition names other step scripts than pipelines/scripts/ holds."""


@dataclass(frozen=True)
class CodeBundle:
    prefix: str  # e.g. pipelines/code/1a2b3c4d5e6f
    objects: dict[str, bytes]  # S3 key -> content

    def uri(self, bucket: str, name: str) -> str:
        return f"s3://{bucket}/{self.prefix}/{name}"

    def require_built_for(self, definition: str, name: str) -> None:
        """Refuse a pipeline definition built for other scripts (it would run code that is not there)."""
        if self.prefix not in definition:
            raise StaleDefinitionError(
                f"{name} was built for other step scripts than pipelines/scripts/ holds now: "
                "run `make pipelines` and commit the result"
            )

    def upload(self, s3: Any, bucket: str) -> None:
        """Put the scripts where the pipeline definitions expect them (the stack and `make deploy`)."""
        for key, content in self.objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=content)


def code_bundle(scripts_dir: Path = SCRIPTS_DIR) -> CodeBundle:
    scripts = {p.name: p.read_bytes() for p in sorted(scripts_dir.glob("*.py"))}
    digest = hashlib.sha256()
    for name, content in scripts.items():
        digest.update(name.encode() + b"\0" + content + b"\0")
    prefix = f"{CODE_ROOT}/{digest.hexdigest()[:12]}"
    objects = {f"{prefix}/{name}": content for name, content in scripts.items()}
    objects[f"{prefix}/{SOURCE_ARCHIVE}"] = _reproducible_tar(scripts)
    return CodeBundle(prefix, objects)


def _reproducible_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    # gzip's header holds a timestamp: mtime=0 keeps the archive identical run to run.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, content in sorted(files.items()):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(content), 0, 0o644
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
