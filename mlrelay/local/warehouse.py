"""The local warehouse: the Redshift Data API answered for real, on DuckDB.

Statements run one at a time on a worker thread (like a single Redshift
session queue) and move SUBMITTED ▸ STARTED ▸ FINISHED | FAILED | ABORTED.
A batch is one transaction: any failure rolls it all back. A bad statement
fails with DuckDB's own message, as Redshift's would carry its own. COPY is
translated by mlrelay/local/redshift_copy.py, reading the emulated S3.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from mlrelay.local.faults import Fault, FaultPlan
from mlrelay.local.redshift_copy import CopyError, is_copy, run_copy

# Data API placeholders are :name; DuckDB's are $name. "::" is a cast, not a parameter.
_PLACEHOLDER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_TERMINAL = {"FINISHED", "FAILED", "ABORTED"}
MAX_ERROR_CHARS = 1024
_NO_RESULT_SET = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "BEGIN", "COMMIT", "TRUNCATE", "GRANT"}


class StatementNotFoundError(LookupError):
    pass


class RequestError(ValueError):
    """The request itself is invalid (what the Data API answers with ValidationException)."""


@dataclass
class SubStatement:
    id: str
    sql: str
    status: str = "SUBMITTED"
    error: str | None = None
    result_rows: int = -1
    has_result_set: bool = False
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    duration_ns: int = 0

    def describe(self) -> dict[str, Any]:
        entry = {
            "Id": self.id, "QueryString": self.sql, "Status": self.status, "ResultRows": self.result_rows,
            "HasResultSet": self.has_result_set, "Duration": self.duration_ns,
            "CreatedAt": _now(), "UpdatedAt": _now(),
        }
        if self.error:
            entry["Error"] = self.error
        return entry


@dataclass
class Statement:
    id: str
    database: str
    connection: dict[str, str]
    parts: list[SubStatement]
    parameters: dict[str, str]
    is_batch: bool
    name: str | None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    status: str = "SUBMITTED"
    error: str | None = None
    cancelled: bool = False

    def describe(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Id": self.id, "Status": self.status, "Database": self.database,
            "CreatedAt": self.created_at, "UpdatedAt": self.updated_at,
            "HasResultSet": any(p.has_result_set for p in self.parts),
            "ResultRows": sum(max(p.result_rows, 0) for p in self.parts) if self.status == "FINISHED" else -1,
            "Duration": sum(p.duration_ns for p in self.parts),
            "QueryString": "; ".join(p.sql for p in self.parts),
            "QueryParameters": [{"name": k, "value": v} for k, v in self.parameters.items()],
            **self.connection,
        }
        if self.name:
            entry["StatementName"] = self.name
        if self.error:
            entry["Error"] = self.error
        if self.is_batch:
            entry["SubStatements"] = [p.describe() for p in self.parts]
        return entry


class LocalWarehouse:
    def __init__(
        self, s3_client: Callable[[], Any], faults: FaultPlan | None = None, database_path: str = ":memory:",
        read_object: Callable[[str, str], bytes] | None = None,
    ):
        self._connection = duckdb.connect(database_path)
        self._s3_client = s3_client
        self._read_object = read_object  # COPY's file reads, when the stack can serve them without HTTP
        self._faults = faults or FaultPlan()
        self._statements: dict[str, Statement] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()  # the statement and token maps
        self._db_lock = threading.Lock()  # the DuckDB connection
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse")
        self.executed: list[str] = []  # every SQL text run, in order (tests count COPYs with it)

    # --- the Data API --------------------------------------------------------

    def execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        parameters = {p["name"]: p["value"] for p in request.get("Parameters") or []}
        return self._submit(request, [request["Sql"]], parameters, is_batch=False)

    def batch_execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        sqls = request.get("Sqls") or []
        if not 1 <= len(sqls) <= 40:
            raise RequestError("Sqls must hold 1 to 40 statements")
        return self._submit(request, sqls, {}, is_batch=True)

    def describe_statement(self, statement_id: str) -> dict[str, Any]:
        return self._find(statement_id).describe()

    def get_statement_result(self, statement_id: str) -> dict[str, Any]:
        statement_key, _, part = statement_id.partition(":")
        statement = self._find(statement_key)
        if statement.status != "FINISHED":
            raise RequestError(f"Query {statement_id} has not finished: {statement.status}")
        sub = statement.parts[int(part) - 1] if part else statement.parts[-1]
        if not sub.has_result_set:
            raise RequestError(f"Query {statement_id} does not have a result set")
        return {
            "ColumnMetadata": [{"name": n, "label": n, "typeName": t} for n, t in zip(sub.columns, sub.types, strict=True)],
            "Records": [[_field(v) for v in row] for row in sub.rows],
            "TotalNumRows": len(sub.rows),
        }

    def cancel_statement(self, statement_id: str) -> bool:
        statement = self._find(statement_id)
        with self._lock:
            if statement.status in _TERMINAL:
                return False
            statement.cancelled = True
        return True

    # --- for the stack and its tests ------------------------------------------

    def wait_idle(self, timeout_seconds: float = 60) -> None:
        deadline = time.monotonic() + timeout_seconds
        while any(s.status not in _TERMINAL for s in list(self._statements.values())):
            if time.monotonic() > deadline:
                raise TimeoutError("warehouse statements still running")
            time.sleep(0.02)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the database directly (tests and benchmarks; the CLI goes through the Data API)."""
        with self._db_lock:
            return self._connection.execute(sql).fetchall()

    def shutdown(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        self._connection.close()

    # --- internals ---------------------------------------------------------------

    def _submit(self, request: dict[str, Any], sqls: list[str], parameters: dict[str, str], is_batch: bool) -> dict[str, Any]:
        connection = _connection_fields(request)
        database = request.get("Database") or ""
        if not database:
            raise RequestError("Database is required")
        token = request.get("ClientToken")
        with self._lock:
            if token and token in self._tokens:  # the same request again: the same statement
                return self._response(self._statements[self._tokens[token]])
            statement_id = str(uuid.uuid4())
            parts = [SubStatement(f"{statement_id}:{i}" if is_batch else statement_id, sql) for i, sql in enumerate(sqls, 1)]
            statement = Statement(statement_id, database, connection, parts, parameters, is_batch, request.get("StatementName"))
            self._statements[statement_id] = statement
            if token:
                self._tokens[token] = statement_id
        try:
            self._worker.submit(self._run, statement)
        except RuntimeError as err:  # the stack is stopping
            raise RequestError("the local warehouse has stopped") from err
        return self._response(statement)

    def _response(self, statement: Statement) -> dict[str, Any]:
        return {"Id": statement.id, "CreatedAt": statement.created_at, "Database": statement.database, **statement.connection}

    def _run(self, statement: Statement) -> None:
        with self._lock:
            if statement.cancelled:
                self._finish(statement, "ABORTED", None)
                return
            statement.status = "STARTED"
        sqls = [part.sql for part in statement.parts]
        refusal = self._faults.statement_refusal(sqls, sqls + list(statement.parameters.values()))
        with self._db_lock:
            for part in statement.parts:
                part.status = "STARTED"
            cursor = self._connection
            cursor.execute("BEGIN TRANSACTION")
            for part in statement.parts:
                started = time.perf_counter_ns()
                try:
                    self._execute(part, statement.parameters, refusal)
                except (duckdb.Error, CopyError) as err:
                    part.status, part.error = "FAILED", str(err)[:MAX_ERROR_CHARS]
                    cursor.execute("ROLLBACK")
                    for later in statement.parts:
                        if later.status == "STARTED":
                            later.status = "ABORTED"
                    self._finish(statement, "FAILED", str(err)[:MAX_ERROR_CHARS])
                    return
                part.duration_ns = time.perf_counter_ns() - started
                part.status = "FINISHED"
            cursor.execute("COMMIT")
            self._finish(statement, "FINISHED", None)

    def _execute(self, part: SubStatement, parameters: dict[str, str], refusal: Fault | None) -> None:
        self.executed.append(part.sql)
        if refusal is not None and refusal.target in part.sql:
            raise CopyError(refusal.error)
        if is_copy(part.sql):
            part.result_rows = run_copy(self._connection, self._s3_client(), part.sql, self._read_object)
            return
        sql = _PLACEHOLDER.sub(lambda m: f"${m.group(1)}", part.sql)
        used = {name: parameters[name] for name in _PLACEHOLDER.findall(part.sql) if name in parameters}
        missing = set(_PLACEHOLDER.findall(part.sql)) - set(parameters)
        if missing:
            raise CopyError(f"ERROR: no value given for parameter(s) {', '.join(sorted(missing))}")
        result = self._connection.execute(sql, used) if used else self._connection.execute(sql)
        if result.description and not _is_dml(part.sql):
            part.has_result_set = True
            part.columns = [d[0] for d in result.description]
            part.types = [str(d[1]).lower() for d in result.description]
            part.rows = result.fetchall()
            part.result_rows = len(part.rows)
        else:
            changed = result.fetchall()
            part.result_rows = int(changed[0][0]) if changed and changed[0] and isinstance(changed[0][0], int) else 0

    def _finish(self, statement: Statement, status: str, error: str | None) -> None:
        statement.status, statement.error, statement.updated_at = status, error, time.time()

    def _find(self, statement_id: str) -> Statement:
        statement = self._statements.get(statement_id)
        if statement is None:
            raise StatementNotFoundError(statement_id)
        return statement


def _connection_fields(request: dict[str, Any]) -> dict[str, str]:
    """Exactly one way to authenticate, as the Data API insists."""
    fields = {k: request[k] for k in ("WorkgroupName", "ClusterIdentifier", "SecretArn", "DbUser") if request.get(k)}
    if not ({"WorkgroupName", "ClusterIdentifier"} & set(fields)):
        raise RequestError("give WorkgroupName (Redshift Serverless) or ClusterIdentifier (provisioned)")
    if "ClusterIdentifier" in fields and not ({"SecretArn", "DbUser"} & set(fields)):
        raise RequestError("a ClusterIdentifier needs SecretArn or DbUser (temporary credentials)")
    return fields


def _is_dml(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in _NO_RESULT_SET


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)}


def _now() -> float:
    return datetime.now(UTC).timestamp()
