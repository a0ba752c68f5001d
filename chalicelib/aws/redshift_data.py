"""The Redshift Data API: submit statements and read results; never waits.

The state machine polls DescribeStatement with a bounded Wait loop, so no
Lambda sleeps while Redshift works.
"""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import translated


class DataApi:
    def __init__(self, connection: dict[str, str], data_client: Any = None):
        self._connection = connection  # Database plus WorkgroupName, or ClusterIdentifier with DbUser/SecretArn
        self._client = data_client or client("redshift-data")

    def batch(self, sqls: list[str], client_token: str, name: str) -> str:
        """Submit statements as one transaction; returns the statement id."""
        with translated("the Redshift Data API refused BatchExecuteStatement"):
            response = self._client.batch_execute_statement(
                **self._connection, Sqls=sqls, ClientToken=client_token, StatementName=name[:500]
            )
        return str(response["Id"])

    def execute(self, sql: str, parameters: list[dict[str, str]], client_token: str, name: str) -> str:
        with translated("the Redshift Data API refused ExecuteStatement"):
            response = self._client.execute_statement(
                **self._connection, Sql=sql, Parameters=parameters, ClientToken=client_token, StatementName=name[:500]
            )
        return str(response["Id"])

    def rows(self, statement_id: str) -> list[list[Any]]:
        """The result set as plain values, all pages."""
        values: list[list[Any]] = []
        request: dict[str, Any] = {"Id": statement_id}
        while True:
            with translated(f"cannot read the result of statement {statement_id}"):
                page = self._client.get_statement_result(**request)
            values.extend([next(iter(field.values())) if not field.get("isNull") else None for field in record]
                          for record in page["Records"])
            if not page.get("NextToken"):
                return values
            request["NextToken"] = page["NextToken"]
