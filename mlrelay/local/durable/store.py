"""The files a durable embedded stack keeps: pickles written whole and renamed into place, and object bodies by hash.

A write is a new file renamed over the old one, so a kill at any moment leaves the previous copy or the new one,
never half of either. Files are not fsync'ed: a killed process loses nothing the kernel was given, a power cut can
lose the last seconds (the stack is a laptop's emulator, not a database).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any

FORMAT = 1  # of the files below; a stack refuses a folder written in another format or by another moto
MANIFEST = "manifest.json"


class StateFolderError(RuntimeError):
    """The state folder belongs to another stage, format or moto version."""


class StateStore:
    def __init__(self, root: Path):
        self.root = root
        self.blobs = root / "blobs"
        self.frozen = threading.Event()  # a clean stop began: what changes now is not kept (DurableState.stopping)
        self._held: Any = None  # the open lock file while this process keeps its state here

    def check_or_claim(self, stage: str) -> bool:
        """True when the folder holds an earlier stack's state (to restore); a new folder is claimed for `stage`.
        The folder is this process's until `release` (or its end, however it ends: the kernel drops the lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._held = (self.root / ".lock").open("a")
        try:
            fcntl.flock(self._held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            self._held.close()
            raise StateFolderError(f"another running stack keeps its state in {self.root}: stop it first, or give this one "
                                   "a folder of its own with --state-dir") from err
        manifest = self.root / MANIFEST
        wanted = {"format": FORMAT, "moto": version("moto"), "stage": stage}
        if manifest.exists():
            found = json.loads(manifest.read_text())
            if found != wanted:
                differs = ", ".join(f"{key} {found.get(key)!r} (this stack: {value!r})" for key, value in wanted.items()
                                    if found.get(key) != value)
                raise StateFolderError(
                    f"{self.root} holds a stack's state with {differs}: start with --fresh to empty it, or choose "
                    "another folder with --state-dir")
            return True
        self.blobs.mkdir(exist_ok=True)
        write_atomically(manifest, json.dumps(wanted).encode())
        return False

    def release(self) -> None:
        if self._held is not None:
            self._held.close()  # closing drops the lock
            self._held = None

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def save(self, path: Path, value: Any, pickler: type[pickle.Pickler] = pickle.Pickler) -> None:
        if self.frozen.is_set():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".tmp", delete=False) as out:
            pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        os.replace(out.name, path)

    def load(self, path: Path) -> Any:
        with path.open("rb") as source:
            return pickle.load(source)  # nosec B301: files this stack wrote into its own state folder

    def put_blob(self, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            write_atomically(path, body)
        return digest

    def blob(self, digest: str) -> bytes:
        return (self.blobs / digest).read_bytes()


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".", suffix=".tmp", delete=False) as out:
        out.write(data)
    os.replace(out.name, path)


def empty(root: Path) -> None:
    """What --fresh does: the folder's state is gone, the folder stays."""
    shutil.rmtree(root, ignore_errors=True)
