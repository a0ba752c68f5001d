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
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import boto3
import requests

from chalicelib.shared.runs import INTERRUPTED_ERROR
from mlrelay.local import cloudwatch_logs, job_processes
from mlrelay.local.applier import PLACEHOLDER_CODE, AppliedStack, FunctionSpec, TemplateApplier
from mlrelay.local.durable import interrupted
from mlrelay.local.durable.interrupted import Interruption
from mlrelay.local.durable.state import DurableState, Restored
from mlrelay.local.durable.store import StateFolderError
from mlrelay.local.emulated import (
    cloudwatch,
    dynamodb,
    events,
    lambda_,
    redshift_data,
    s3,
    sagemaker,
    sagemaker_endpoints,
    sagemaker_lineage,
    server,
    stepfunctions,
)
from mlrelay.local.endpoint_fleet import HostContext
from mlrelay.local.endpoints import LocalEndpoints
from mlrelay.local.faults import FaultPlan
from mlrelay.local.iam.authorizer import Authorizer
from mlrelay.local.iam.principals import IamModel
from mlrelay.local.lambda_runtime import LocalFunction, LocalLambdaRuntime
from mlrelay.local.sagemaker_runner import LocalPipelineRunner, list_steps
from mlrelay.local.slack_receiver import SlackReceiver
from mlrelay.local.sqs_poller import SqsPoller
from mlrelay.local.stack_principals import StackPrincipals
from mlrelay.local.state_file import ACCOUNT_ID, REGION, StackInfo
from mlrelay.local.template import Template
from mlrelay.local.warehouse import LocalWarehouse
from mlrelay.packaging import CODE_HASH_METADATA, code_sha256
from mlrelay.pipeline_builder.code import StaleDefinitionError, code_bundle
from mlrelay.runs import resume_points

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_ENV = "MLRELAY_INFRA_TEMPLATE"  # another template to start from (the IAM mutation benchmark's copies)


class StackError(RuntimeError):
    """The embedded stack could not start."""


class EmbeddedStack:
    """Start it (or use it as a context manager); every patch, thread, variable and server it sets up is
    undone by `stop()`, and by a start that fails half-way, through one ExitStack."""

    def __init__(
        self, stage: str = "dev", project_root: Path = PROJECT_ROOT, log_dir: Path | None = None, time_scale: float = 1.0,
        template_path: Path | None = None, parameters: dict[str, str] | None = None, process_file: Path | None = None,
        state_dir: Path | None = None,
    ):
        """`template_path` and `parameters` replace infra/resources.json and add to the stage's parameters
        (tests of a changed template; MLRELAY_INFRA_TEMPLATE names a template for the IAM mutation benchmark).
        `process_file` records the stack's pid, work folder and running jobs while it runs, so that the next start
        ends what a killed stack left (`leftovers` says what that was). `state_dir` keeps what the services hold
        there, every write before it is acknowledged, and a stack started on it again has it all back (`restored`
        says what); without it everything is in memory and gone with the stack."""
        self.process_file = process_file
        self.leftovers: list[str] = []
        self.durable = DurableState(state_dir, stage) if state_dir is not None else None
        self.restored: Restored | None = None
        self.interrupted: list[Interruption] = []
        self._logs_client: Any = None  # SageMaker's writes of the jobs' logs, signed as the operator
        self.stage = stage
        self.template_path = template_path or Path(os.environ.get(TEMPLATE_ENV) or project_root / "infra" / "resources.json")
        self.parameter_overrides = dict(parameters or {})
        self.time_scale = time_scale  # Wait states, Retry back-offs and jobs' maximum runtimes (tests run them faster)
        self.log_dir = log_dir
        self.project_root = project_root
        self.faults = FaultPlan()
        self.runtime = LocalLambdaRuntime()
        self._work_dir = Path(tempfile.mkdtemp(prefix=job_processes.WORK_DIR_PREFIX))
        read_object = s3.object_reader(ACCOUNT_ID)  # the runner's and the warehouse's reads, in process
        self.pipelines = LocalPipelineRunner(
            s3_client=lambda: self.client("s3"),
            work_dir=self._work_dir,
            log_dir=(log_dir or self._work_dir) / "pipelines",
            emit=self._emit_sagemaker_event,
            faults=self.faults,
            read_object=read_object,
            time_scale=time_scale,
            # SageMaker writes a job's output to CloudWatch Logs itself: the stack's shipper signs as the operator
            ship_log=self._ship_job_log,
        )
        # real-time endpoints: their models' S3 reads act as the models' roles, as the jobs' do (identity set at start)
        self.endpoints = LocalEndpoints(
            sagemaker_endpoints.MotoCatalog(ACCOUNT_ID, REGION),
            HostContext(self._work_dir, (log_dir or self._work_dir), lambda: self.client("s3"), read_object,
                        lambda: self.pipelines.identity),
            ACCOUNT_ID, REGION, time_scale, on_change=self._save_sagemaker,
        )
        self.warehouse = LocalWarehouse(
            lambda: self.client("s3"), self.faults, read_object=read_object,
            database_path=str(self.durable.warehouse_path) if self.durable else ":memory:",
        )
        self._slack: SlackReceiver | None = None
        self.iam: Authorizer | None = None  # decides every request; its census says what each role used
        self._function_ids: dict[str, str] = {}  # logical id -> function name
        self.principals: StackPrincipals | None = None  # who acts as whom: functions, jobs, state machines
        self._applied: AppliedStack | None = None
        self._info: StackInfo | None = None
        self._cleanup = ExitStack()
        self._abandon_work = False  # a stop that gave up waiting: the shutdown does not wait for what still runs

    @property
    def applied(self) -> AppliedStack:
        """What the template made (once the stack has started)."""
        return _started(self._applied)

    @property
    def info(self) -> StackInfo:
        """Where the started stack answers, and its outputs, functions and state machines."""
        return _started(self._info)

    @property
    def slack(self) -> SlackReceiver:
        """The local Slack receiver behind the stack's webhook parameter."""
        return _started(self._slack)

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> EmbeddedStack:
        with ExitStack() as undo:  # on any error below, everything done so far is undone
            self._start(undo)
            self._cleanup = undo.pop_all()
        return self

    def _start(self, undo: ExitStack) -> None:
        from chalicelib.aws import clients

        job_processes.begin()
        if self.durable is not None:
            try:
                self.durable.open()
            except StateFolderError as err:
                raise StackError(str(err)) from err
            undo.callback(self.durable.release)
            self.runtime.pending = self.durable.pending
        if self.process_file is not None:
            self.leftovers = job_processes.clean_leftovers(self.process_file)
            undo.enter_context(job_processes.recorded_in(self.process_file, os.getpid(), self._work_dir))
        undo.callback(clients.reset)
        undo.callback(shutil.rmtree, self._work_dir, True)
        undo.callback(self.warehouse.shutdown)
        # These run after the emulator stopped: work still in flight then only retries against it until its timeouts
        # (a Lambda's, minutes), which a person's stop does not wait for.
        undo.callback(self._shut_down_workers)
        undo.enter_context(_process_state_restored())
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        # moto's Step Functions interpreter logs every caught task error at length;
        # the execution history already records them.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        moto_server = undo.enter_context(server.serving())
        endpoint, port = moto_server.endpoint, moto_server.port
        undo.enter_context(mock.patch.dict(os.environ, _emulator_environment(endpoint, port)))
        response = requests.post(
            f"{endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        )
        response.raise_for_status()
        clients.reset()
        undo.enter_context(lambda_.patched(self.runtime.invoke))
        undo.enter_context(events.patched(self.runtime.invoke, self._eventbridge_may_deliver))
        undo.enter_context(sagemaker.patched(self._start_pipeline, self.pipelines.retry, list_steps, self._package_status_changed))
        undo.enter_context(sagemaker_endpoints.patched(self.endpoints))  # its stop ends the endpoints' hosts
        undo.enter_context(sagemaker_lineage.patched())
        undo.enter_context(cloudwatch.patched())
        undo.enter_context(redshift_data.patched(self.warehouse))
        undo.enter_context(stepfunctions.patched(self.faults, self.time_scale))
        undo.enter_context(s3.patched(self.faults))
        undo.enter_context(dynamodb.patched(self.faults))
        app_module, specs = _chalice_functions(self.stage, self.project_root)
        self._function_ids = {spec.logical_id: spec.name for spec in specs}
        template = Template.load(self.template_path)
        applier = TemplateApplier(self.client, ACCOUNT_ID, REGION, self.project_root)
        parameters = {"Stage": self.stage, **_stage_parameters(self.project_root, self.stage), **self.parameter_overrides}
        self._applied = applier.apply(template, parameters, specs)
        if self.durable is not None:  # before anything else writes: a restored object must not hide a newer one
            self.restored = self.durable.restore()
            undo.enter_context(self.durable.kept(moto_server))
            self.durable.save_all()
        undo.enter_context(mock.patch.dict(os.environ, _shared_environment(self.applied.function_environment)))
        self._enforce_iam(undo, endpoint, lambda overrides: applier.iam_model(template, specs, overrides))
        if self.log_dir is not None:
            undo.enter_context(_function_logs_in(self.log_dir / "functions.log"))
        # Lambda's service ships a function's logs, not the function's code: the stack's shipper signs as itself.
        undo.enter_context(cloudwatch_logs.shipped(logging.getLogger("mlrelay"), lambda: self.operator_client("logs"), self._may_log))
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
        local = self._connect_people(undo)
        for function_name, queue_url in self.applied.failure_destinations.items():
            self.runtime.failure_destinations[function_name] = self._sender(queue_url)
        for mapping in self.applied.event_source_mappings:
            # Lambda polls an event source mapping's queue with the function's role
            assert self.principals is not None
            poller = SqsPoller(mapping, self.principals.client_as_function("sqs", mapping.function_name), self.runtime.invoke, REGION)
            poller.start()
            undo.callback(poller.stop)
        self._info = StackInfo(
            endpoint=endpoint,
            stage=self.stage,
            region=REGION,
            outputs=self.applied.outputs(template),
            functions={spec.handler.split(".", 1)[1]: spec.name for spec in specs},
            state_machines={logical_id: self.applied.ref(logical_id) for logical_id in self.applied.state_machine_definitions},
            local=local,
        )
        self._record_as_deployed(self.info.outputs)
        if self.restored is not None:
            self.interrupted = self._mark_interrupted(self.restored)
            for function_name, event in self.durable.pending.left_over() if self.durable else []:
                self.runtime.invoke(function_name, event, "Event")  # accepted before the stop; Lambda would deliver it

    def _enforce_iam(self, undo: ExitStack, endpoint: str, rebuild: Callable[[dict[str, str]], IamModel]) -> None:
        """From here on every request is evaluated against its principal's policies (mlrelay/local/stack_principals.py)."""
        assert self.applied.iam is not None
        self.principals = StackPrincipals(self.stage, endpoint, self.applied.iam, self._function_ids, rebuild)
        self.iam = self.principals.authorizer
        self.runtime.acting_as = self.principals.acting_as_function
        self.runtime.writes_invocation_log = lambda function: self._may_log(function.name, f"/aws/lambda/{function.name}")
        self.pipelines.identity = self.principals.job_identity()
        undo.enter_context(self.principals.patched())

    def iam_with(self, **parameters: str) -> IamModel:
        """The IAM model the template gives with other parameter values (a KMS key, a Redshift secret)."""
        assert self.principals is not None
        return self.principals.with_parameters(**parameters)

    def replaced_iam(self, model: IamModel) -> AbstractContextManager[IamModel]:
        """Evaluate with `model`'s roles and policies until the block ends (a test of a template without a fix)."""
        assert self.principals is not None
        return self.principals.replaced(model, self.wait_idle)

    def _may_log(self, function_name: str, group: str) -> bool:
        return self.principals is None or self.principals.may_log(function_name, group)

    def _eventbridge_may_deliver(self, rule_arn: str, target_arn: str, action: str) -> bool:
        return self.principals is None or self.principals.eventbridge_may_deliver(rule_arn, target_arn, action)

    def _record_as_deployed(self, outputs: dict[str, str]) -> None:
        """Describe the stack in CloudFormation as a deployed one is, so `mlrelay --stage` finds it the same way.

        moto's CloudFormation cannot create this stack (SAM, and it drops a bucket's EventBridge setting), so
        the applier creates the resources and this records the stack with their outputs.
        """
        template = {
            "Description": f"mlrelay {self.stage} on the embedded stack (resources made by mlrelay/local/applier.py)",
            "Metadata": {CODE_HASH_METADATA: code_sha256(PLACEHOLDER_CODE)},
            "Resources": {"Recorded": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # moto says it does not build the placeholder resource; nothing needs it
            self.client("cloudformation").create_stack(StackName=f"mlrelay-{self.stage}", TemplateBody=json.dumps(template))

    def wait_idle(self, timeout_seconds: float = 300) -> None:
        """Until no Lambda invocation, no pipeline execution and no endpoint deploy is running (they start each other)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            self.runtime.wait_idle(max(1.0, deadline - time.monotonic()))
            self.pipelines.wait_idle(max(1.0, deadline - time.monotonic()))
            self.endpoints.wait_idle(max(1.0, deadline - time.monotonic()))
            if self.runtime.idle() and self.pipelines.idle() and self.endpoints.idle():
                return

    def settle(self, timeout_seconds: float = 60) -> bool:
        """Until the stack is quiet (see `busy`) at two checks in a row: a delivery may start another.
        False if it was still busy at the timeout."""
        deadline = time.monotonic() + timeout_seconds
        quiet_checks = 0
        while time.monotonic() < deadline:
            self.wait_idle(max(1.0, deadline - time.monotonic()))
            quiet_checks = 0 if self.busy() else quiet_checks + 1
            if quiet_checks >= 2:
                return True
            time.sleep(0.1)
        return False

    def busy(self) -> list[str]:
        """What still moves: Lambda invocations, pipeline executions and endpoint deploys, messages in the event source mappings'
        queues (delivered synchronously by their pollers, so wait_idle does not see them), delayed ones included,
        and running workflow executions. Empty when the stack is quiet."""
        found = [] if self.runtime.idle() else ["Lambda invocations"]
        found += [] if self.pipelines.idle() else ["pipeline executions"]
        found += [] if self.endpoints.idle() else ["endpoint deploys"]
        sqs, sfn = self.operator_client("sqs"), self.operator_client("stepfunctions")
        for mapping in self.applied.event_source_mappings:
            counts = sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=list(_QUEUED))["Attributes"]
            if waiting := sum(int(counts.get(name, 0)) for name in _QUEUED):
                found.append(f"{waiting} messages in {mapping.queue_url.rsplit('/', 1)[-1]}")
        for machine in sfn.list_state_machines()["stateMachines"]:
            running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")["executions"]
            found += [f"execution {e['name']}" for e in running]
        return found

    def stop(self, timeout_seconds: float = 120, stop_jobs: bool = False) -> None:
        """Wait for what runs to end (at most `timeout_seconds`), then undo everything. `stop_jobs` ends the running
        jobs first, as a person's Ctrl-C wants: their steps fail as stopped, and nothing waits for them; a durable
        stack keeps its state as it was before (its runs are interrupted at the next start, not failed)."""
        try:
            self.endpoints.close()  # a deploy's baking ends: an update under way stays as it is
            if stop_jobs:
                if self.durable is not None:
                    self.durable.stopping()
                job_processes.stop_all(grace_seconds=5)
            self.wait_idle(timeout_seconds=timeout_seconds)
        except TimeoutError:
            logger.warning("the stack stopped with work still running after %.0f s", timeout_seconds)
            if not stop_jobs:
                raise
            self._abandon_work = True  # the process exits next (mlrelay local up): nothing waits for that work
        finally:
            self._cleanup.close()

    def _shut_down_workers(self) -> None:
        self.pipelines.shutdown(wait=not self._abandon_work)
        self.runtime.shutdown(wait=not self._abandon_work)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def _ship_job_log(self, group: str, stream: str, lines: list[str]) -> None:
        # one client for every job's log (a new client per job cost a client's start-up each time)
        if self._logs_client is None:
            self._logs_client = self.operator_client("logs")
        cloudwatch_logs.put_lines(self._logs_client, group, stream, lines)

    def operator_client(self, service: str) -> Any:
        """A client that signs as the operator whatever principal the calling thread acts as."""
        return boto3.client(
            service, region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        )

    def fire_schedule(self, rule_name: str, at: datetime) -> None:
        """Deliver a schedule rule's event now, as if its time had come (moto fires no schedules)."""
        if not events.fire_schedule(ACCOUNT_ID, REGION, rule_name, at):
            raise StackError(f"no schedule rule named {rule_name!r}")

    def _sender(self, queue_url: str) -> Callable[[dict[str, Any]], None]:
        sqs = self.client("sqs")
        return lambda record: sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record, default=str))

    def _start_pipeline(self, pipeline: Any, execution: Any) -> None:
        """A new pipeline execution: run it in the background, or to its end at once when a fault says so."""
        early = self.faults.early_end(execution.pipeline_execution_description)
        if early is None:
            self.pipelines.submit(pipeline, execution)
            return
        self.pipelines.run_now(pipeline, execution)
        if early.then is not None:
            early.then(execution.pipeline_execution_description)
        self.runtime.wait_idle()  # the status event has been handled: nobody was waiting yet

    def _connect_people(self, undo: ExitStack) -> dict[str, str]:
        """A Slack receiver behind the webhook parameter, and a queue subscribed to the alerts topic."""
        self._slack = SlackReceiver(self.faults)
        undo.callback(self.slack.stop)
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

    def _mark_interrupted(self, restored: Restored) -> list[Interruption]:
        """Runs and pipeline executions the stopped stack was running: ended as interrupted, each run announced once."""
        assert self.durable is not None
        at = interrupted.now()
        for execution in self.durable.sagemaker.executing():
            sagemaker.fail_running(execution, interrupted.STOPPED_STEP, at)
        self.durable.sagemaker.save()
        dynamodb, sqs = self.operator_client("dynamodb"), self.operator_client("sqs")
        marked = []
        for execution in restored.running:
            points = resume_points(json.loads(execution.state_machine.definition))
            interruption = interrupted.interruption_of(execution, points)
            cause = interrupted.cause_of(interruption, at)
            # the ledger first: its conditional write makes the alert once, even if a kill cuts this start short
            if interrupted.mark_in_ledger(dynamodb, self.applied.ref("RunsTable"), interruption, cause):
                message = interrupted.alert_message(interruption, cause, at)
                sqs.send_message(QueueUrl=self.info.outputs["FailuresQueueUrl"], MessageBody=json.dumps(message))
                marked.append(interruption)
            execution.interrupt(at, INTERRUPTED_ERROR, cause)
        self.durable.stepfunctions.save()
        return marked

    def _save_sagemaker(self) -> None:
        if self.durable is not None:  # an endpoint's new status is kept as moto's other SageMaker writes are
            self.durable.sagemaker.save()

    def _package_status_changed(self, detail: dict[str, Any], package_arn: str) -> None:
        self._emit_sagemaker_event("SageMaker Model Package State Change", detail, [package_arn])

    def _emit_sagemaker_event(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        if self.durable is not None:  # a step's or an execution's new status is kept before anyone hears of it
            self.durable.sagemaker.save()
        event = {"Source": "aws.sagemaker", "DetailType": detail_type, "Detail": json.dumps(detail), "Resources": resources}
        events.put_events(ACCOUNT_ID, REGION, [event])


T = TypeVar("T")


def _started(part: T | None) -> T:
    if part is None:
        raise StackError("the embedded stack has not started: use EmbeddedStack.start() or `with EmbeddedStack() as stack`")
    return part


_QUEUED = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")


def _stage_parameters(project_root: Path, stage: str) -> dict[str, str]:
    """infra/parameters/<stage>.json: the template parameters a stage deploys with."""
    path = project_root / "infra" / "parameters" / f"{stage}.json"
    if not path.exists():
        raise StackError(f"{path} is missing: every stage needs its template parameters (see infra/parameters/dev.json)")
    return {name: str(value) for name, value in json.loads(path.read_text()).items()}


@contextmanager
def _function_logs_in(path: Path) -> Iterator[None]:
    """Write the functions' Powertools logs to a file, as CloudWatch Logs would keep them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers = [h for h in logging.getLogger("mlrelay").handlers if isinstance(h, logging.StreamHandler)]  # Powertools' service logger
    with path.open("a", encoding="utf-8") as stream:
        previous = [handler.setStream(stream) for handler in handlers]
        try:
            yield
        finally:
            for handler, original in zip(handlers, previous, strict=True):
                if original is not None:  # None: it already wrote there
                    handler.setStream(original)


def _emulator_environment(endpoint: str, port: int) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "MLRELAY_EMBEDDED_STACK": "1",  # alerts print commands without --stage: the CLI's default is this stack
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


@contextmanager
def _process_state_restored() -> Iterator[None]:
    """What a start changes in the process beyond its patches, put back at the stop: sys.path (the project's folder,
    for `app`), the app module itself, and the loggers it quiets."""
    path, had_app = list(sys.path), "app" in sys.modules
    levels = {name: logging.getLogger(name).level for name in _QUIETED_LOGGERS}
    try:
        yield
    finally:
        sys.path[:] = path
        if not had_app:
            sys.modules.pop("app", None)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


_QUIETED_LOGGERS = ("werkzeug", "moto.stepfunctions.parser")


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
                reserved_concurrency=config.reserved_concurrency,
            )
        )
    return app_module, specs
