"""S3's buckets and every version of every object: a file per bucket and per object name, bodies stored once by hash.

A write saves what changed in its bucket: each object name whose versions are not the ones last saved. Comparing
the names' versions costs a pass over the bucket's names, far less than writing every object again.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

from moto.s3.models import FakeBucket, FakeKey, s3_backends
from moto.s3.utils import _VersionedKeyStore

from mlrelay.local.durable.store import StateStore
from mlrelay.local.state_file import ACCOUNT_ID

_NOT_SAVED = ("_value_buffer", "lock", "multipart")  # a buffer, a lock, and the parts of a body saved whole


def _backend() -> Any:
    return s3_backends[ACCOUNT_ID]["aws"]


class S3State:
    def __init__(self, store: StateStore):
        self._store = store
        self._saved: dict[str, dict[str, tuple[Any, ...]]] = {}  # bucket -> object name -> versions' fingerprint
        self._digests: weakref.WeakKeyDictionary[FakeKey, str] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _folder(self, bucket: str) -> Path:
        return self._store.path("s3", bucket)

    def save(self, bucket_name: str) -> None:
        with self._lock:
            bucket = _backend().buckets.get(bucket_name)
            folder = self._folder(bucket_name)
            if bucket is None:
                if folder.exists():
                    for path in sorted(folder.rglob("*"), reverse=True):
                        path.unlink() if path.is_file() else path.rmdir()
                    folder.rmdir()
                self._saved.pop(bucket_name, None)
                return
            settings = {name: value for name, value in vars(bucket).items() if name not in ("keys", "multiparts")}
            self._store.save(folder / "bucket.pickle", settings)
            saved = self._saved.setdefault(bucket_name, {})
            current = {name: versions for name, versions in dict(bucket.keys).items()}
            for name, versions in current.items():
                fingerprint = tuple((id(v), getattr(v, "_version_id", None), getattr(v, "last_modified", None)) for v in versions)
                if saved.get(name) != fingerprint:
                    self._store.save(self._key_path(folder, name), (name, list(versions)), self._pickler())
                    saved[name] = fingerprint
            for name in set(saved) - set(current):
                self._key_path(folder, name).unlink(missing_ok=True)
                del saved[name]

    def save_all(self) -> None:
        for name in list(_backend().buckets):
            self.save(name)

    def restore(self) -> int:
        """Buckets the template made get their objects back; others (a team's data buckets) come back whole."""
        root = self._store.path("s3")
        if not root.exists():
            return 0
        backend = _backend()
        objects = 0
        for folder in sorted(path for path in root.iterdir() if path.is_dir()):
            if not (folder / "bucket.pickle").exists():
                continue  # a bucket whose first save a kill cut short: nothing in it was acknowledged
            settings = self._store.load(folder / "bucket.pickle")
            bucket: Any = backend.buckets.get(settings["name"])
            if bucket is None:
                bucket = FakeBucket.__new__(FakeBucket)
                vars(bucket).update(settings)
                bucket.keys = _VersionedKeyStore()
                from moto.s3.models import MultipartDict

                bucket.multiparts = MultipartDict()
                backend.buckets[bucket.name] = bucket
                s3_backends.bucket_accounts[bucket.name] = (backend.partition, ACCOUNT_ID)  # as CreateBucket records it
            for path in (folder / "keys").glob("*.pickle"):
                name, versions = self._load_keys(path)
                bucket.keys.setlist(name, versions)
                objects += 1
        self._saved.clear()
        return objects

    def _key_path(self, folder: Path, name: str) -> Path:
        return folder / "keys" / f"{hashlib.sha256(name.encode()).hexdigest()}.pickle"

    def _pickler(self) -> type[pickle.Pickler]:
        state = self

        class BodiesApart(pickle.Pickler):
            def reducer_override(self, obj: Any) -> Any:
                if isinstance(obj, FakeKey):
                    fields = {name: value for name, value in vars(obj).items() if name not in _NOT_SAVED}
                    return _restored_key, (fields, state._digest(obj))
                return NotImplemented

        return BodiesApart

    def _digest(self, key: FakeKey) -> str:
        digest = self._digests.get(key)
        if digest is None:
            digest = self._store.put_blob(key.value)
            self._digests[key] = digest
        return digest

    def _load_keys(self, path: Path) -> tuple[str, list[Any]]:
        with path.open("rb") as source:
            unpickler = pickle.Unpickler(source)  # nosec B301: this stack's own state folder
            _BLOBS.store = self._store
            return unpickler.load()


class _Blobs(threading.local):
    store: StateStore | None = None


_BLOBS = _Blobs()


def _restored_key(fields: dict[str, Any], digest: str) -> FakeKey:
    key: Any = FakeKey.__new__(FakeKey)
    vars(key).update(fields)
    key.multipart = None
    key.lock = threading.Lock()
    key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)
    assert _BLOBS.store is not None
    body = _BLOBS.store.blob(digest)
    key._value_buffer.write(body)
    key.contentsize = len(body)
    return key

