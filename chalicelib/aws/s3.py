"""S3 objects: configs, the reports written beside them, and run outputs."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import NotFoundError, translated
from chalicelib.shared.pinning import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    FileVersion,
    PinnedInput,
    check_pinnable,
    copy_key,
    header_digest,
    pin_base,
    pinned_uri,
)

HEADER_BYTES = 64 * 1024
PARALLEL_REQUESTS = 16  # a table of many files is looked up and copied this many files at a time


@dataclass(frozen=True)
class ObjectContent:
    data: bytes  # at most max_bytes: the rest is never read
    size: int  # the object's full size


@dataclass(frozen=True)
class Fingerprint:
    """Which bytes an object holds: its version (a versioned bucket gives each write its own) and their SHA-256."""

    uri: str
    version_id: str
    sha256: str


def listing_identity(files: list[str]) -> str:
    """The identity of a prefix from its sorted "key etag" lines (the fake S3 of the tests uses it too)."""
    return f"files:{len(files)}:{hashlib.sha256(chr(10).join(files).encode()).hexdigest()[:16]}"


def is_the_object(files: list[FileVersion], key: str) -> bool:
    """Whether a URI's files are the one object its key names, not files under it as a prefix."""
    return len(files) == 1 and files[0].key == key


def files_identity(files: list[FileVersion], key: str) -> str:
    """S3Objects.identity of the files a URI with `key` names: the object's ETag, or every file's key and ETag."""
    return f"etag:{files[0].etag}" if is_the_object(files, key) else listing_identity(sorted(f'{f.key} "{f.etag}"' for f in files))


def tar_gz_holds_files(data: bytes) -> bool:
    """Whether a .tar.gz's bytes hold a file; bytes that are no archive are not known to be empty."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            return any(member.isfile() for member in archive)
    except (tarfile.TarError, OSError, EOFError):
        return True


class S3Objects:
    def __init__(self, s3_client: Any = None):
        self._client = s3_client or client("s3")

    def read(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> ObjectContent:
        """Read one object version; a body over max_bytes is cut, not loaded."""
        request = {"Bucket": bucket, "Key": key}
        if version_id and version_id != "null":
            request["VersionId"] = version_id
        try:
            with translated(f"cannot read s3://{bucket}/{key}"):
                response = self._client.get_object(**request)
        except NotFoundError as err:
            raise NotFoundError(f"s3://{bucket}/{key} (version {version_id}) no longer exists", err.code) from err
        body = response["Body"]
        try:
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        return ObjectContent(data=data[:max_bytes], size=int(response.get("ContentLength", len(data))))

    def read_json(self, bucket: str, key: str, max_bytes: int) -> Any:
        return json.loads(self.read(bucket, key, None, max_bytes).data)

    def version_of(self, uri: str) -> str:
        """The object's current version id (HEAD: nothing read)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        with translated(f"cannot look up {uri}"):
            return str(self._client.head_object(Bucket=bucket, Key=key).get("VersionId") or "null")

    def fingerprint(self, uri: str) -> Fingerprint:
        """The current version of an object and the SHA-256 of its bytes (read in chunks, never held whole)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        with translated(f"cannot read {uri}"):
            response = self._client.get_object(Bucket=bucket, Key=key)
        digest = hashlib.sha256()
        body = response["Body"]
        try:
            for chunk in iter(lambda: body.read(1024 * 1024), b""):
                digest.update(chunk)
        finally:
            body.close()
        return Fingerprint(uri, str(response.get("VersionId") or "null"), digest.hexdigest())

    def identity(self, uri: str) -> str:
        """What names the bytes a table or bundle URI holds now, without reading them: the object's ETag, or for
        a prefix every CSV file's key and ETag. Equal identities mean equal content (a run's steps reuse work on it)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return files_identity(self._listed_files(bucket, key), key)

    def archive_holds_files(self, uri: str, max_bytes: int = 1024 * 1024) -> bool:
        """Whether a .tar.gz holds a file; one over `max_bytes` is taken to (only a small archive can be empty)."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        content = self.read(bucket, key, None, max_bytes)
        return content.size > max_bytes or tar_gz_holds_files(content.data)

    def exists(self, uri: str) -> bool:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            with translated(f"cannot look up {uri}"):
                self._client.head_object(Bucket=bucket, Key=key)
        except NotFoundError:
            return False
        return True

    def first_bytes(self, bucket: str, key: str, max_bytes: int) -> ObjectContent:
        """The start of an object, by a ranged GET: a table's header without reading the table."""
        with translated(f"cannot read s3://{bucket}/{key}"):
            response = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
        body = response["Body"]
        try:
            data = body.read(max_bytes)
        finally:
            body.close()
        # ContentRange is "bytes 0-N/TOTAL"; an empty object answers without one.
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        return ObjectContent(data=data, size=int(total) if total.isdigit() else len(data))

    def first_table_file(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> str | None:
        """The object a table URI names: the key itself if it exists, else the first non-empty file under it as a prefix."""
        try:
            with translated(f"cannot look up s3://{bucket}/{key_or_prefix}"):
                self._client.head_object(Bucket=bucket, Key=key_or_prefix)
            return key_or_prefix
        except NotFoundError:
            pass  # not an object: perhaps a prefix of files (a missing bucket fails the listing)
        with translated(f"cannot list s3://{bucket}/{key_or_prefix}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=key_or_prefix, PaginationConfig={"MaxItems": 1000}
            )
            for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].lower().endswith(suffix) and item.get("Size", 0) > 0:
                        return str(item["Key"])
        return None

    def table_lines(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> Iterator[tuple[str, str]]:
        """(key, line) of the table a URI names, streamed: the object itself, or every file under it as a prefix."""
        keys = [key_or_prefix]
        try:
            with translated(f"cannot look up s3://{bucket}/{key_or_prefix}"):
                self._client.head_object(Bucket=bucket, Key=key_or_prefix)
        except NotFoundError:
            keys = [item["Key"] for item in self._files_under(bucket, key_or_prefix, suffix)]
        for key in keys:
            with translated(f"cannot read s3://{bucket}/{key}"):
                body = self._client.get_object(Bucket=bucket, Key=key)["Body"]
                try:
                    for line in body.iter_lines():
                        yield key, line.decode("utf-8-sig", errors="replace")
                finally:
                    body.close()

    def _files_under(self, bucket: str, prefix: str, suffix: str) -> list[dict[str, Any]]:
        """The listing entries (Key, ETag, Size) of the files under `prefix` whose names end in `suffix`."""
        with translated(f"cannot list s3://{bucket}/{prefix}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return [item for page in pages for item in page.get("Contents", []) if item["Key"].lower().endswith(suffix)]

    def file_versions(self, uri: str, suffix: str = ".csv") -> list[FileVersion]:
        """Every file a table or bundle URI names now, with its version: the object, or the files under it as a prefix."""
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        listed = self._listed_files(bucket, key, suffix)
        if is_the_object(listed, key):
            return listed  # its HEAD gave its version
        with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
            return list(pool.map(lambda each: self._file_version(bucket, each.key), listed))

    def _file_version(self, bucket: str, key: str) -> FileVersion:
        with translated(f"cannot look up s3://{bucket}/{key}"):
            head = self._client.head_object(Bucket=bucket, Key=key)
        return FileVersion(key, str(head.get("VersionId") or "null"), str(head["ETag"]).strip('"'), int(head["ContentLength"]))

    def pin(self, uri: str, bucket: str, kind: str) -> PinnedInput:
        """Copy what `uri` holds now under `bucket`'s inputs/<kind>/ (chalicelib/shared/pinning.py), once per content.

        Each file is copied only while it still has the ETag the listing gave (CopySourceIfMatch), and the copy names
        the version it read, so the manifest is exactly what was copied."""
        source_bucket, _, source_key = uri.removeprefix("s3://").partition("/")
        listed = self._listed_files(source_bucket, source_key)
        if not listed:
            raise NotFoundError(f"{uri} holds no file to read: upload the table there, or fix the config's URI", "NoSuchKey")
        identity = files_identity(listed, source_key)
        base = pin_base(kind, uri, identity)
        try:
            return PinnedInput.from_manifest(self.read_json(bucket, f"{base}/{MANIFEST}", MAX_MANIFEST_BYTES))
        except NotFoundError:
            pass  # not pinned yet
        check_pinnable(uri, listed)

        def copy(file: FileVersion) -> FileVersion:
            source = {"Bucket": source_bucket, "Key": file.key,
                      **({"VersionId": file.version_id} if file.version_id not in ("", "null") else {})}
            with translated(f"cannot copy s3://{source_bucket}/{file.key} to s3://{bucket}/{base}/"):
                copied = self._client.copy_object(CopySource=source, CopySourceIfMatch=f'"{file.etag}"', Bucket=bucket,
                                                  Key=copy_key(base, kind, file.key, source_key))
            return replace(file, version_id=str(copied.get("CopySourceVersionId") or "null"))

        with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
            files = list(pool.map(copy, listed))
        pinned = PinnedInput(uri, pinned_uri(bucket, base, kind, files, source_key), identity, tuple(files))
        if kind == "tables" and any(f.size for f in files):  # a ranged read of an empty object is refused
            first = copy_key(base, kind, next(f.key for f in files if f.size), source_key)
            pinned = replace(pinned, header_sha256=header_digest(self.first_bytes(bucket, first, HEADER_BYTES).data))
        if kind == "code":
            pinned = replace(pinned, sha256=self.fingerprint(pinned.uri).sha256)
        self.put_json(bucket, f"{base}/{MANIFEST}", pinned.manifest())  # last: a manifest means every file is there
        return pinned

    def _listed_files(self, bucket: str, key: str, suffix: str = ".csv") -> list[FileVersion]:
        """The object `key` names (its version from a HEAD), or the files under it as a prefix, as the pipeline's Split
        reads them (their versions unknown yet)."""
        if key and not key.endswith("/"):  # a "folder/" key is at most the console's empty marker: the files count
            try:
                return [self._file_version(bucket, key)]
            except NotFoundError:
                pass  # a prefix of files
        return [FileVersion(str(item["Key"]), "", str(item["ETag"]).strip('"'), int(item.get("Size", 0)))
                for item in self._files_under(bucket, key, suffix)]

    def copy(self, source_uri: str, target_uri: str) -> None:
        """One object copied whole, server side (a model archive to where an endpoint reads it)."""
        source_bucket, _, source_key = source_uri.removeprefix("s3://").partition("/")
        bucket, _, key = target_uri.removeprefix("s3://").partition("/")
        with translated(f"cannot copy {source_uri} to {target_uri}"):
            self._client.copy_object(CopySource={"Bucket": source_bucket, "Key": source_key}, Bucket=bucket, Key=key)

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        with translated(f"cannot write s3://{bucket}/{key}"):
            self._client.put_object(
                Bucket=bucket,
                Key=key,
                Body=json.dumps(document, indent=2, default=str).encode(),
                ContentType="application/json",
            )
