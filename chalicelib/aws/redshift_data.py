"""The Redshift Data API: submit statements and read results; never waits.

The state machine polls DescribeStatement with a bounded Wait loop, so no
Lambda sleeps while Redshift works.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, error_code


class WarehouseError(AwsError):
    pass


class DataApi:
    def __init__(self, connection: dict[str, str], data_client: Any = None):
        self._connection = connection  # Database plus WorkgroupName, or ClusterIdentifier with DbUser/SecretArn
        self._client = data_client or client("redshift-data")

    def batch(self, sqls: list[str], client_token: str, name: str) -> str:
        """Submit statements as one transaction; returns the statement id."""
        return self._call("batch_execute_statement", Sqls=sqls, ClientToken=client_token, StatementName=name[:500])

    def execute(self, sql: str, parameters: list[dict[str, str]], client_token: str, name: str) -> str:
        return self._call(
            "execute_statement", Sql=sql, Parameters=parameters, ClientToken=client_token, StatementName=name[:500]
        )

    def describe(self, statement_id: str) -> dict[str, Any]:
        try:
            return self._client.describe_statement(Id=statement_id)
        except ClientError as err:
            raise WarehouseError(f"cannot describe statement {statement_id}: {error_code(err)}") from err

    def rows(self, statement_id: str) -> list[list[Any]]:
        """The result set as plain values, all pages."""
        values: list[list[Any]] = []
        request: dict[str, Any] = {"Id": statement_id}
        while True:
            try:
                page = self._client.get_statement_result(**request)
            except ClientError as err:
                raise WarehouseError(f"cannot read the result of {statement_id}: {error_code(err)}") from err
            values.extend([next(iter(field.values())) if not field.get("isNull") else None for field in record]
                          for record in page["Records"])
            if not page.get("NextToken"):
                return values
            request["NextToken"] = page["NextToken"]

    def _call(self, operation: str, **request: Any) -> str:
        try:
            return str(getattr(self._client, operation)(**self._connection, **request)["Id"])
        except ClientError as err:
            raise WarehouseError(f"Redshift Data API {operation} was refused: {err}") from err
