"""Check at the drop that what a training config points at is there, before anything starts.

The training table exists and its header has the label and feature columns;
the code bundle exists; and when daily or monthly inference is on, the
catalogue has the id column, the features and (daily) the added-at column.
A wrong column found here costs the user a message at the drop instead of a
failed run at 3 am.

Only a table's first bytes are read (a ranged GET), never the table. The reads
run in parallel under one deadline; a read that does not finish in time is a
problem saying so, never a pass.
"""

from __future__ import annotations

import csv
import difflib
import io
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.aws.errors import AwsError, NotFoundError
from chalicelib.aws.s3 import ObjectContent
from chalicelib.config.parsing import ConfigProblem
from chalicelib.config.schema import ModelConfig, UserCode

HEADER_BYTES = 64 * 1024  # a header row longer than this is not a table we can train on
COLUMNS_QUOTED = 12  # how much of a header a message repeats


class TableStore(Protocol):
    def first_bytes(self, bucket: str, key: str, max_bytes: int) -> ObjectContent: ...

    def first_table_file(self, bucket: str, key_or_prefix: str, suffix: str = ".csv") -> str | None: ...

    def exists(self, uri: str) -> bool: ...


class PreflightError(Exception):
    """What is wrong with one URI: the message goes into the rejection report as it is."""


@dataclass(frozen=True)
class Header:
    uri: str  # the file read (the first CSV file, when the URI is a prefix)
    columns: tuple[str, ...]

    def lacks(self, column: str) -> str:
        """Why `column` is a problem: what the header has, and the nearest name."""
        shown = ", ".join(self.columns[:COLUMNS_QUOTED])
        if len(self.columns) > COLUMNS_QUOTED:
            shown += f" … ({len(self.columns)} in all)"
        nearest = difflib.get_close_matches(column, self.columns, n=1, cutoff=0.6)
        hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
        return f"{column!r} is not a column of {self.uri} (its header has: {shown}){hint}"


def preflight_problems(config: ModelConfig, store: TableStore, timeout_seconds: float) -> list[ConfigProblem]:
    """Every problem with what `config` points at; [] when training and its inference schedules can start."""
    catalogue_uri = config.inference.catalogue_uri or config.data.uri
    inference_on = config.inference.daily or config.inference.monthly
    uris = {config.data.uri: "data.uri"}
    if inference_on:
        uris.setdefault(catalogue_uri, "inference.catalogue_uri")
    pool = ThreadPoolExecutor(max_workers=len(uris) + 1, thread_name_prefix="preflight")
    try:
        headers = {uri: pool.submit(read_header, store, uri) for uri in uris}
        code_uri = config.model.code_uri if isinstance(config.model, UserCode) else None
        code = pool.submit(store.exists, code_uri) if code_uri else None
        deadline = time.monotonic() + timeout_seconds
        problems: list[ConfigProblem] = []
        results = {uri: _result(future, deadline, timeout_seconds, field, f"the header of {uri}", problems)
                   for (uri, future), field in zip(headers.items(), uris.values(), strict=True)}
        if code is not None and code_uri and _result(code, deadline, timeout_seconds, "model.code_uri", code_uri, problems) is False:
            problems.append(ConfigProblem("model.code_uri", f"no code bundle at {code_uri}: `mlrelay submit CONFIG` "
                                                            "packs model.source_dir and uploads it"))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a read still hanging must not hold the function
    training = results[config.data.uri]
    if training is not None:
        problems += _training_columns(config, training)
    catalogue = results.get(catalogue_uri)
    if inference_on and catalogue is not None:
        problems += _catalogue_columns(config, catalogue, same_table=catalogue_uri == config.data.uri)
    return problems


def read_header(store: TableStore, uri: str) -> Header:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        found = store.first_table_file(bucket, key)
        if found is None:
            raise PreflightError(f"no object at {uri} and no CSV file under it as a prefix: upload the table "
                                 "(on the local stack: `mlrelay local put FILE URI`) or fix the URI")
        start = store.first_bytes(bucket, found, HEADER_BYTES)
    except NotFoundError as err:
        raise PreflightError(f"{uri} cannot be found ({err.code}): check the bucket name") from err
    except AwsError as err:
        raise PreflightError(
            f"{uri} cannot be read: {err}. The stack's roles need s3:GetObject and s3:ListBucket on it: "
            "a bucket outside the stack goes in the stage's DataBucketName parameter (infra/parameters/STAGE.json)"
        ) from err
    return Header(f"s3://{bucket}/{found}", _columns(start, f"s3://{bucket}/{found}"))


def _columns(start: ObjectContent, uri: str) -> tuple[str, ...]:
    if start.size == 0:
        raise PreflightError(f"{uri} is empty: a table needs a header row and data rows")
    text = _utf8_text(start, uri)
    if "\n" not in text and start.size > len(start.data):
        raise PreflightError(f"the first {HEADER_BYTES // 1024} KiB of {uri} hold no complete header row: "
                             "the table must be CSV with a header row")
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as err:
        raise PreflightError(f"{uri} is not a CSV table its header row can be read from ({err}): save it as CSV "
                             "with a header row") from err
    columns = tuple(name.strip() for name in header)
    if not any(columns):
        raise PreflightError(f"{uri} starts with an empty line: the table must be CSV with a header row")
    return columns


# What tables people upload that are not CSV, by their first bytes.
NOT_CSV = (
    (b"PAR1", "a Parquet file", "pandas.read_parquet(path).to_csv(path_csv, index=False)"),
    (b"\x1f\x8b", "gzip-compressed", "gunzip it and upload the CSV"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)", "export the sheet as CSV (UTF-8)"),
    (b"BZh", "bzip2-compressed", "bunzip2 it and upload the CSV"),
    (b"\xff\xfe", "UTF-16 text", "save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text", "save it as CSV UTF-8"),
)


def _utf8_text(start: ObjectContent, uri: str) -> str:
    """The first bytes as text, or PreflightError naming the file's format and how to make it CSV."""
    for magic, what, fix in NOT_CSV:
        if start.data.startswith(magic):
            raise PreflightError(f"{uri} is {what}, not a CSV table: {fix}")
    try:
        return start.data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        cut = start.size > len(start.data) and err.start >= len(start.data) - 3  # a character cut by the ranged read
        if cut:
            return start.data[:err.start].decode("utf-8-sig")
        raise PreflightError(f"{uri} is not UTF-8 text (byte 0x{start.data[err.start]:02x} at position {err.start}): "
                             "save the table as CSV UTF-8") from err


def _result(future: Future[Any], deadline: float, timeout_seconds: float, field: str, what: str,
            problems: list[ConfigProblem]) -> Any:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        problems.append(ConfigProblem(field, f"could not read {what} within {timeout_seconds:g} s, so it was not checked "
                                             "and nothing was started: upload the config again to retry"))
    except PreflightError as err:
        problems.append(ConfigProblem(field, str(err)))
    except AwsError as err:
        problems.append(ConfigProblem(field, f"cannot check {what}: {err}"))
    return None


def _training_columns(config: ModelConfig, header: Header) -> list[ConfigProblem]:
    problems = []
    if config.data.label_column not in header.columns:
        problems.append(ConfigProblem("data.label_column", header.lacks(config.data.label_column)))
    for index, column in enumerate(config.data.feature_columns):
        if column not in header.columns:
            problems.append(ConfigProblem(f"data.feature_columns[{index}]", header.lacks(column)))
    if config.segments is not None and config.segments.column not in header.columns:
        problems.append(ConfigProblem("segments.column", header.lacks(config.segments.column)))
    return problems


def _catalogue_columns(config: ModelConfig, header: Header, same_table: bool) -> list[ConfigProblem]:
    settings = config.inference
    schedules = " and ".join(name for name, on in (("daily", settings.daily), ("monthly", settings.monthly)) if on)
    off = "set inference.daily and inference.monthly to false to train without scheduled inference"
    where = "the catalogue (data.uri; set inference.catalogue_uri for another table)" if same_table else "the catalogue"
    problems = []
    if settings.id_column not in header.columns:
        problems.append(ConfigProblem("inference.id_column", f"{schedules} inference keys predictions by an item id, but in "
                                      f"{where}: {header.lacks(settings.id_column)}. Name your id column here, or {off}"))
    if settings.daily and settings.added_at_column not in header.columns:
        problems.append(ConfigProblem("inference.added_at_column", f"daily inference picks the items added the day before "
                                      f"by this column, but in {where}: {header.lacks(settings.added_at_column)}. Name "
                                      "your added-at column here, or set inference.daily to false"))
    if not same_table:  # the training table's own columns were checked above
        missing = [c for c in config.data.feature_columns if c not in header.columns]
        if missing:
            problems.append(ConfigProblem("inference.catalogue_uri", f"the model predicts from its feature columns, but "
                                          f"{len(missing)} are not in the catalogue: {header.lacks(missing[0])}"))
    return problems
