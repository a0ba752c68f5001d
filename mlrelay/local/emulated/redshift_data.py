"""The Redshift Data API, answered by the local warehouse (moto's executes no SQL and lacks BatchExecuteStatement)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.redshiftdata.exceptions import ResourceNotFoundException, ValidationException
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

ACTIONS = ("execute_statement", "batch_execute_statement", "describe_statement", "get_statement_result", "cancel_statement")


@contextmanager
def patched(warehouse: Any) -> Iterator[None]:
    """`warehouse` is a mlrelay.local.warehouse.LocalWarehouse."""
    with ExitStack() as stack:
        for name in ACTIONS:
            stack.enter_context(mock.patch.object(RedshiftDataAPIServiceResponse, name, _action(warehouse, name), create=True))
        yield


def _action(warehouse: Any, name: str) -> Callable[[RedshiftDataAPIServiceResponse], Any]:
    def action(self: RedshiftDataAPIServiceResponse) -> Any:
        from mlrelay.local.warehouse import RequestError, StatementNotFoundError

        request = json.loads(self.body or "{}")
        try:
            if name in ("execute_statement", "batch_execute_statement"):
                answer = getattr(warehouse, name)(request)
                _record_owner(answer)
            elif name == "cancel_statement":
                answer = {"Status": warehouse.cancel_statement(request["Id"])}
            else:
                answer = getattr(warehouse, name)(request["Id"])
        except StatementNotFoundError as err:
            raise ResourceNotFoundException() from err
        except RequestError as err:
            raise ValidationException(str(err)) from err
        return 200, {}, json.dumps(answer, default=str)

    return action


def _record_owner(answer: dict[str, Any]) -> None:
    """redshift-data:statement-owner-iam-userid: who submitted the statement (policies scope reads by it)."""
    from mlrelay.local.emulated.iam import serving_session, statement_owners

    session = serving_session()
    if session is not None and "Id" in answer:
        statement_owners[answer["Id"]] = session.userid
