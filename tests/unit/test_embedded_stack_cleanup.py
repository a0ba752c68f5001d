"""GIVEN a stack whose start fails half-way, THEN nothing it set up is left behind."""

import logging
import os
import sys

import pytest
import requests
from moto.awslambda.models import LambdaFunction
from moto.events.models import Rule
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

from mlrelay.local.stack import EmbeddedStack, StackError


def test_a_start_that_fails_half_way_leaves_moto_unpatched_and_the_environment_as_it_was(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delitem(sys.modules, "app", raising=False)
    environment, path = dict(os.environ), list(sys.path)
    levels = {name: logging.getLogger(name).level for name in ("werkzeug", "moto.stepfunctions.parser")}
    moto = (LambdaFunction.invoke, Rule.send_to_targets, ExecutionState._evaluate_with_timeout,
            RedshiftDataAPIServiceResponse.__dict__.get("batch_execute_statement"))
    stack = EmbeddedStack(stage="no-such-stage")  # fails after the server started and moto was patched
    started = []
    original_post = requests.post
    monkeypatch.setattr(requests, "post", lambda url, **kw: started.append(url) or original_post(url, **kw))

    with pytest.raises(StackError, match="no-such-stage"):
        stack.start()

    assert started, "the start got as far as the server and the patches"
    assert (LambdaFunction.invoke, Rule.send_to_targets, ExecutionState._evaluate_with_timeout,
            RedshiftDataAPIServiceResponse.__dict__.get("batch_execute_statement")) == moto
    assert dict(os.environ) == environment
    assert sys.path == path and "app" not in sys.modules  # the start had imported the app from the project's folder
    assert {name: logging.getLogger(name).level for name in levels} == levels
    endpoint = started[0].removesuffix("/moto-api/config")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{endpoint}/moto-api/", timeout=2)  # the server stopped
