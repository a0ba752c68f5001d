"""The embedded AWS stack: moto in server mode, the template applied, app.py wired in.

Everything runs in this process: moto's server on a free loopback port, its
Step Functions interpreter (which calls back through that port), and the
Chalice functions behind the moto Lambda API. Handlers reach the emulator
through AWS_ENDPOINT_URL, the same code path as on AWS.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from mlrelay.local import moto_patches
from mlrelay.local.applier import AppliedStack, FunctionSpec, TemplateApplier
from mlrelay.local.lambda_runtime import LocalFunction, LocalLambdaRuntime
from mlrelay.local.template import Template

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"


class StackError(RuntimeError):
    """The embedded stack could not start."""


@dataclass(frozen=True)
class StackInfo:
    """What other processes need to talk to a running stack (see state_file.py)."""

    endpoint: str
    stage: str
    region: str
    outputs: dict[str, str]
    functions: dict[str, str]  # Chalice name -> deployed function name
    state_machines: dict[str, str]  # logical id -> ARN


class EmbeddedStack:
    def __init__(self, stage: str = "dev", project_root: Path = PROJECT_ROOT, function_log: Path | None = None):
        self.stage = stage
        self.function_log = function_log
        self.project_root = project_root
        self.runtime = LocalLambdaRuntime()
        self._server: ThreadedMotoServer | None = None
        self.applied: AppliedStack | None = None
        self.info: StackInfo | None = None
        self._saved_environment: dict[str, str | None] = {}

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> EmbeddedStack:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        # moto's Step Functions interpreter logs every caught task error at length;
        # the execution history already records them.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        self._set_environment(_emulator_environment(endpoint, port))
        response = requests.post(
            f"{endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        )
        response.raise_for_status()
        from chalicelib.aws import clients

        clients.reset()
        moto_patches.install(self.runtime.invoke)
        app_module, specs = _chalice_functions(self.stage, self.project_root)
        template = Template.load(self.project_root / "infra" / "resources.json")
        applier = TemplateApplier(self.client, ACCOUNT_ID, REGION, self.project_root)
        self.applied = applier.apply(template, {"Stage": self.stage}, specs)
        self._set_environment(_shared_environment(self.applied.function_environment))
        if self.function_log is not None:
            _send_function_logs_to(self.function_log)
        for spec in specs:
            self.runtime.register(
                LocalFunction(
                    name=spec.name,
                    handler=getattr(app_module, spec.handler.split(".", 1)[1]),
                    timeout_seconds=spec.timeout_seconds,
                    memory_mb=spec.memory_mb,
                    arn=self.applied.resources[spec.logical_id].attributes["Arn"],
                )
            )
        state_machines = {
            logical_id: self.applied.ref(logical_id) for logical_id in self.applied.state_machine_definitions
        }
        self.info = StackInfo(
            endpoint=endpoint,
            stage=self.stage,
            region=REGION,
            outputs=self.applied.outputs(template),
            functions={spec.handler.split(".", 1)[1]: spec.name for spec in specs},
            state_machines=state_machines,
        )
        return self

    def stop(self) -> None:
        self.runtime.wait_idle(timeout_seconds=30)
        self.runtime.shutdown()
        moto_patches.uninstall()
        if self._server is not None:
            self._server.stop()
            self._server = None
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        from chalicelib.aws import clients

        clients.reset()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def _set_environment(self, variables: dict[str, str]) -> None:
        for name, value in variables.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            os.environ[name] = value


def _send_function_logs_to(path: Path) -> None:
    """Write the functions' Powertools logs to a file, as CloudWatch Logs would keep them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("a", encoding="utf-8")
    for handler in logging.getLogger("mlrelay").handlers:  # the Powertools Logger's service name
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)


def _emulator_environment(endpoint: str, port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "MOTO_PORT": str(port),  # moto's Step Functions interpreter calls back on this port
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def _shared_environment(function_environment: dict[str, dict[str, str]]) -> dict[str, str]:
    """All functions run in one process, so their variables must agree."""
    merged: dict[str, str] = {}
    for function_name, variables in function_environment.items():
        for name, value in variables.items():
            if merged.get(name, value) != value:
                raise StackError(
                    f"{function_name} sets {name}={value!r} but another function sets {merged[name]!r}; "
                    "the embedded stack runs all functions in one process, so give them distinct names"
                )
            merged[name] = value
    return merged


def _chalice_functions(stage: str, project_root: Path) -> tuple[Any, list[FunctionSpec]]:
    """The app's Lambda functions with the names and settings `chalice package` gives them."""
    from chalice.config import Config
    from chalice.utils import to_cfn_resource_name

    if str(project_root) not in sys.path:
        sys.path.insert(0, str(project_root))
    app_module = importlib.import_module("app")
    app = app_module.app
    config_from_disk = json.loads((project_root / ".chalice" / "config.json").read_text())
    if stage not in config_from_disk.get("stages", {}):
        raise StackError(f"stage {stage!r} is not in .chalice/config.json; use one of {list(config_from_disk['stages'])}")
    specs = []
    for function in app.pure_lambda_functions:
        config = Config(chalice_stage=stage, function_name=function.name, config_from_disk=config_from_disk)
        specs.append(
            FunctionSpec(
                logical_id=to_cfn_resource_name(function.name),
                name=f"{app.app_name}-{stage}-{function.name}",
                handler=function.handler_string,
                environment=dict(config.environment_variables),
                timeout_seconds=int(config.lambda_timeout or 60),
                memory_mb=int(config.lambda_memory_size or 128),
            )
        )
    return app_module, specs
