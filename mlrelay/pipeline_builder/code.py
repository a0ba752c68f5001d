"""What the stack ships for its pipelines: the step scripts and the built-in models' code, content-addressed.

The step scripts go under pipelines/code/<hash of the scripts>/, the built-in
models' folder (pipelines/builtin/sklearn/) as a code bundle like any team's
(code/<digest>/sourcedir.tar.gz). A pipeline definition names exactly the code
it was built for, so SageMaker's step cache (keyed on the step's arguments)
misses as soon as a script changes, and a definition built for other code is
refused before it could run code that is not there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrelay.code_bundles import SourceBundle, pack

PIPELINES_DIR = Path(__file__).resolve().parents[2] / "pipelines"
SCRIPTS_DIR = PIPELINES_DIR / "scripts"
BUILTIN_DIR = PIPELINES_DIR / "builtin" / "sklearn"
CODE_ROOT = "pipelines/code"
_NAMED_CODE = re.compile(r"(pipelines/code/[0-9a-f]{12}/|code/[0-9a-f]{20}/)")


class StaleDefinitionError(RuntimeError):
    """A committed pipeline definition names other code than pipelines/ holds."""


@dataclass(frozen=True)
class CodeBundle:
    prefix: str  # the step scripts, e.g. pipelines/code/1a2b3c4d5e6f
    builtin: SourceBundle  # the built-in models' code
    objects: dict[str, bytes]  # S3 key -> content

    def uri(self, bucket: str, name: str) -> str:
        return f"s3://{bucket}/{self.prefix}/{name}"

    def require_built_for(self, definition: str, name: str) -> None:
        """Refuse a pipeline definition built for other code (it would run code that is not there)."""
        named = set(_NAMED_CODE.findall(definition))
        ours = {f"{self.prefix}/", self.builtin.key.removesuffix("sourcedir.tar.gz")}
        if not named or named - ours:
            raise StaleDefinitionError(
                f"{name} was built for other code than pipelines/scripts/ and pipelines/builtin/ hold now: "
                "run `make pipelines` and commit the result"
            )

    def upload(self, s3: Any, bucket: str) -> None:
        """Put the code where the pipeline definitions expect it (the stack and `make deploy`)."""
        for key, content in self.objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=content)


def code_bundle(scripts_dir: Path = SCRIPTS_DIR, builtin_dir: Path = BUILTIN_DIR) -> CodeBundle:
    scripts = {p.name: p.read_bytes() for p in sorted(scripts_dir.glob("*.py"))}
    digest = hashlib.sha256()
    for name, content in scripts.items():
        digest.update(name.encode() + b"\0" + content + b"\0")
    prefix = f"{CODE_ROOT}/{digest.hexdigest()[:12]}"
    builtin = pack(builtin_dir)
    objects = {f"{prefix}/{name}": content for name, content in scripts.items()}
    objects[builtin.key] = builtin.archive
    return CodeBundle(prefix, builtin, objects)
