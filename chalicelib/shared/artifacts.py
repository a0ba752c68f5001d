"""A registered version's model artifact, pinned: what inference and the model decisions check before they use it."""

from __future__ import annotations

from typing import Any


class ArtifactChangedError(RuntimeError):
    """The approved version's model artifact is no longer the bytes it was registered with."""


def check_artifact(model_name: str, version: int, registered: dict[str, str], current: Any) -> None:
    """ArtifactChangedError unless `current` (a Fingerprint of the artifact now) holds the bytes the version registered
    (the same bytes written again, e.g. restored, get a new S3 version but are the same model)."""
    if current.sha256 != registered["sha256"]:
        raise ArtifactChangedError(
            f"model {model_name} v{version}'s artifact {registered['uri']} is not the one it was registered with "
            f"(version {registered['version_id']}, sha256 {registered['sha256'][:12]}…; now version {current.version_id}, "
            f"sha256 {current.sha256[:12]}…): something wrote over it. Roll back to another version "
            f"(`mlrelay models rollback {model_name}`) or train again; the registered bytes are the key's version "
            f"{registered['version_id']}"
        )
