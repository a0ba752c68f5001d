"""Run a statement through the Redshift Data API and wait for it (for people, not Lambdas)."""

from __future__ import annotations

import time
from typing import Any


class WarehouseQueryError(RuntimeError):
    pass


def connection_from(outputs: dict[str, str]) -> dict[str, str]:
    connection = {"Database": outputs["RedshiftDatabase"]}
    if outputs.get("RedshiftWorkgroup"):
        connection["WorkgroupName"] = outputs["RedshiftWorkgroup"]
    else:
        connection["ClusterIdentifier"] = outputs["RedshiftClusterIdentifier"]
    return connection


def run_statement(
    data: Any, connection: dict[str, str], sql: str | None = None, sqls: list[str] | None = None, timeout: float = 300,
    parameters: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Submit, then poll DescribeStatement until it ends; returns the description."""
    if sqls:
        submitted = data.batch_execute_statement(Sqls=sqls, **connection)
    else:
        submitted = data.execute_statement(Sql=sql, **connection, **({"Parameters": parameters} if parameters else {}))
    deadline = time.monotonic() + timeout
    while True:
        statement = data.describe_statement(Id=submitted["Id"])
        if statement["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            break
        if time.monotonic() > deadline:
            raise WarehouseQueryError(f"statement {submitted['Id']} still {statement['Status']} after {timeout:.0f}s")
        time.sleep(0.1)
    if statement["Status"] != "FINISHED":
        raise WarehouseQueryError(f"the warehouse says: {statement.get('Error', statement['Status'])}")
    return statement


def result_table(data: Any, statement_id: str) -> tuple[list[str], list[list[Any]]]:
    result = data.get_statement_result(Id=statement_id)
    columns = [c["name"] for c in result["ColumnMetadata"]]
    rows = [[None if f.get("isNull") else next(iter(f.values())) for f in record] for record in result["Records"]]
    return columns, rows
