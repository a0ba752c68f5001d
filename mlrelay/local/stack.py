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
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from mlrelay.local import moto_patches
from mlrelay.local.faults import FaultPlan
from mlrelay.local.applier import AppliedStack, FunctionSpec, TemplateApplier
from mlrelay.local.lambda_runtime import LocalFunction, LocalLambdaRuntime
from mlrelay.local.sagemaker_runner import LocalPipelineRunner, list_steps
from mlrelay.local.slack_receiver import SlackReceiver
from mlrelay.local.sqs_poller import SqsPoller
from mlrelay.local.warehouse import LocalWarehouse
from mlrelay.pipeline_builder.code import StaleDefinitionError, code_bundle
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
    local: dict[str, str] = field(default_factory=dict)  # what only the embedded stack has (the Slack receiver)


class EmbeddedStack:
    def __init__(
        self, stage: str = "dev", project_root: Path = PROJECT_ROOT, log_dir: Path | None = None, time_scale: float = 1.0,
    ):
        self.stage = stage
        self.time_scale = time_scale  # Wait states and Retry back-offs (tests run them faster)
        self.log_dir = log_dir
        self.project_root = project_root
        self.runtime = LocalLambdaRuntime()
        self._work_dir = Path(tempfile.mkdtemp(prefix="mlrelay-sagemaker-"))
        self.pipelines = LocalPipelineRunner(
            s3_client=lambda: self.client("s3"),
            work_dir=self._work_dir,
            log_dir=(log_dir or self._work_dir) / "pipelines",
            emit=self._emit_sagemaker_event,
        )
        self.warehouse = LocalWarehouse(lambda: self.client("s3"))
        self.faults = FaultPlan()
        self.slack: SlackReceiver | None = None
        self._pollers: list[SqsPoller] = []
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
        moto_patches.install_pipeline_runner(self.pipelines.submit, list_steps, self.pipelines.retry)
        moto_patches.install_warehouse(self.warehouse)
        moto_patches.install_fault_plan(self.faults)
        moto_patches.install_time_scale(self.time_scale)
        app_module, specs = _chalice_functions(self.stage, self.project_root)
        template = Template.load(self.project_root / "infra" / "resources.json")
        applier = TemplateApplier(self.client, ACCOUNT_ID, REGION, self.project_root)
        self.applied = applier.apply(template, {"Stage": self.stage, **_stage_parameters(self.project_root, self.stage)}, specs)
        self._set_environment(_shared_environment(self.applied.function_environment))
        if self.log_dir is not None:
            _send_function_logs_to(self.log_dir / "functions.log")
        self._upload_step_code(self.applied.outputs(template)["ArtifactBucketName"])
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
        local = self._connect_people()
        for function_name, queue_url in self.applied.failure_destinations.items():
            self.runtime.failure_destinations[function_name] = self._sender(queue_url)
        for mapping in self.applied.event_source_mappings:
            poller = SqsPoller(mapping, self.client("sqs"), self.runtime.invoke, REGION)
            poller.start()
            self._pollers.append(poller)
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
            local=local,
        )
        return self

    def wait_idle(self, timeout_seconds: float = 300) -> None:
        """Until no Lambda invocation and no pipeline execution is running (they start each other)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            self.runtime.wait_idle(max(1.0, deadline - time.monotonic()))
            self.pipelines.wait_idle(max(1.0, deadline - time.monotonic()))
            if self.runtime.idle() and self.pipelines.idle():
                return

    def stop(self) -> None:
        self.wait_idle(timeout_seconds=120)
        for poller in self._pollers:
            poller.stop()
        if self.slack is not None:
            self.slack.stop()
        self.pipelines.shutdown()
        self.runtime.shutdown()
        self.warehouse.shutdown()
        shutil.rmtree(self._work_dir, ignore_errors=True)
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

    def fire_schedule(self, rule_name: str, at: datetime) -> None:
        """Deliver a schedule rule's event now, as if its time had come (moto fires no schedules)."""
        from moto.events.models import events_backends

        rule = events_backends[ACCOUNT_ID][REGION].event_buses["default"].rules.get(rule_name)
        if rule is None or not rule.scheduled_expression:
            raise StackError(f"no schedule rule named {rule_name!r}")
        moment = at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT_ID, "time": moment, "region": REGION, "resources": [rule.arn], "detail": {},
            "ingestion-time": time.time(),
        }
        rule.send_to_targets(event)

    def _sender(self, queue_url: str) -> Callable[[dict[str, Any]], None]:
        sqs = self.client("sqs")
        return lambda record: sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record, default=str))

    def _connect_people(self) -> dict[str, str]:
        """A Slack receiver behind the webhook parameter, and a queue subscribed to the alerts topic."""
        self.slack = SlackReceiver()
        self.client("ssm").put_parameter(
            Name=self.applied.parameters["SlackWebhookParameterName"], Value=self.slack.url, Type="SecureString", Overwrite=True
        )
        sqs = self.client("sqs")
        inbox = sqs.create_queue(QueueName=f"mlrelay-{self.stage}-local-alerts-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("sns").subscribe(TopicArn=self.applied.ref("AlertsTopic"), Protocol="sqs", Endpoint=inbox_arn)
        return {"slack_webhook_url": self.slack.url, "alerts_inbox_url": inbox}

    def _upload_step_code(self, bucket: str) -> None:
        """Put the step scripts where the pipeline definitions expect them (`make deploy` does the same)."""
        bundle = code_bundle()
        for logical_id, definition in self.applied.pipeline_definitions.items():
            try:
                bundle.require_built_for(definition, f"{logical_id}'s definition")
            except StaleDefinitionError as err:
                raise StackError(str(err)) from err
        bundle.upload(self.client("s3"), bucket)

    def _emit_sagemaker_event(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        from moto.events.models import events_backends

        event = {"Source": "aws.sagemaker", "DetailType": detail_type, "Detail": json.dumps(detail), "Resources": resources}
        events_backends[ACCOUNT_ID][REGION].put_events([event])

    def _set_environment(self, variables: dict[str, str]) -> None:
        for name, value in variables.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            os.environ[name] = value


def _stage_parameters(project_root: Path, stage: str) -> dict[str, str]:
    """infra/parameters/<stage>.json: the template parameters a stage deploys with."""
    path = project_root / "infra" / "parameters" / f"{stage}.json"
    if not path.exists():
        raise StackError(f"{path} is missing: every stage needs its template parameters (see infra/parameters/dev.json)")
    return {name: str(value) for name, value in json.loads(path.read_text()).items()}


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
