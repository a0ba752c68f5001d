"""Redshift's COPY ... FROM 's3://...' on DuckDB, reading the emulated S3.

Handles the forms mlrelay emits: CSV files by prefix or by MANIFEST, with
IAM_ROLE, FORMAT AS CSV / CSV, DELIMITER, IGNOREHEADER, REGION. Every value
arrives as text and is cast by the INSERT, so a bad column fails with the
database's own conversion error; a missing mandatory file fails as Redshift
reports it. Anything else is refused rather than half understood.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_COPY = re.compile(
    r"^\s*COPY\s+(?P<table>[A-Za-z_][\w.]*)\s*(?:\((?P<columns>[^)]*)\))?\s+FROM\s+'(?P<uri>s3://[^']+)'\s*(?P<options>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OPTION = re.compile(
    r"(?P<name>IAM_ROLE|CREDENTIALS|REGION|DELIMITER|IGNOREHEADER|FORMAT\s+AS\s+CSV|CSV|MANIFEST|TIMEFORMAT|DATEFORMAT|EMPTYASNULL)"
    r"(?:\s+(?:AS\s+)?(?P<value>'[^']*'|\d+))?",
    re.IGNORECASE,
)


DOWNLOAD_THREADS = 8


class CopyError(RuntimeError):
    """COPY failed; the message reads like Redshift's."""


def is_copy(sql: str) -> bool:
    return sql.lstrip()[:5].upper() == "COPY "


def run_copy(connection: Any, s3: Any, sql: str, read_object: Callable[[str, str], bytes] | None = None) -> int:
    """Load the files into the table; returns the number of rows loaded.

    `read_object(bucket, key)`, when given, fetches a file's bytes instead of a download through `s3`."""
    match = _COPY.match(sql)
    if not match:
        raise CopyError("ERROR: COPY form not understood by the local warehouse (expected COPY table [(cols)] FROM 's3://...' options)")
    options = _options(match.group("options"))
    if "IAM_ROLE" not in options and "CREDENTIALS" not in options:
        raise CopyError("ERROR: COPY needs IAM_ROLE or CREDENTIALS to read from S3")
    uri = match.group("uri")
    keys = _manifest_entries(s3, uri) if "MANIFEST" in options else _prefix_entries(s3, uri)
    table = match.group("table")
    columns = [c.strip() for c in (match.group("columns") or "").split(",") if c.strip()]
    delimiter = options.get("DELIMITER", ",").strip("'")
    skip = int(options.get("IGNOREHEADER", "0"))
    if not keys:
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        paths = [Path(scratch) / f"part-{index:05d}.csv" for index in range(len(keys))]
        # Fetched side by side and loaded by one statement, which DuckDB reads in parallel.
        with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS) as pool:
            list(pool.map(_download, [s3] * len(keys), keys, paths, [read_object] * len(keys)))
        return _load_files(connection, table, columns, paths, delimiter, skip, "EMPTYASNULL" in options)


def _download(s3: Any, entry: tuple[str, str], local: Path, read_object: Callable[[str, str], bytes] | None) -> None:
    bucket, key = entry
    try:
        if read_object is not None:
            local.write_bytes(read_object(bucket, key))
        else:
            s3.download_file(bucket, key, str(local))
    except Exception as err:  # botocore's ClientError for a missing key
        raise CopyError(
            f"ERROR: S3ServiceException:The specified key does not exist.,Status 404,Error NoSuchKey (s3://{bucket}/{key})"
        ) from err


def _load_files(
    connection: Any, table: str, columns: list[str], paths: list[Path], delimiter: str, skip: int, empty_as_null: bool,
) -> int:
    # The table matched COPY's identifier pattern (bandit B608).
    target_columns = columns or [row[0] for row in connection.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()]  # nosec B608
    # Generated names only: nothing from the file or the user reaches the SQL text.
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(target_columns)))
    # Redshift loads an empty field into a text column as '' unless EMPTYASNULL; DuckDB reads it as NULL.
    null_text = "" if empty_as_null else "\x01"
    reader = f"read_csv(?, header=false, skip=?, delim=?, quote='\"', nullstr=?, columns={{{names}}}, auto_detect=false)"
    column_list = ", ".join(target_columns)
    try:
        result = connection.execute(
            # Identifiers matched COPY's pattern; values are bound (bandit B608).
            f"INSERT INTO {table} ({column_list}) SELECT * FROM {reader}", [[str(p) for p in paths], skip, delimiter, null_text]  # nosec B608
        )
    except Exception as err:
        raise CopyError(f"ERROR: Load into table '{table}' failed: {err}") from err
    return int(result.fetchall()[0][0])


def _options(text: str) -> dict[str, str]:
    found = {}
    for option in _OPTION.finditer(text):
        name = re.sub(r"\s+", " ", option.group("name").upper())
        found["CSV" if name == "FORMAT AS CSV" else name] = (option.group("value") or "").strip("'") or name
    leftover = _OPTION.sub("", text).strip().strip(";").strip()
    if leftover:
        raise CopyError(f"ERROR: COPY option not supported by the local warehouse: {leftover}")
    return found


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _manifest_entries(s3: Any, uri: str) -> list[tuple[str, str]]:
    bucket, key = _split(uri)
    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as err:
        raise CopyError(f"ERROR: Problem reading manifest file - S3ServiceException:The specified key does not exist ({uri})") from err
    entries = manifest.get("entries")
    if not isinstance(entries, list):
        raise CopyError(f"ERROR: Manifest file is not in correct json format ({uri}): no entries list")
    return [_split(entry["url"]) for entry in entries]


def _prefix_entries(s3: Any, uri: str) -> list[tuple[str, str]]:
    bucket, prefix = _split(uri)
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]
    if not keys:
        raise CopyError(f"ERROR: The specified S3 prefix '{prefix}' does not exist")
    return [(bucket, key) for key in sorted(keys)]
