"""One embedded AWS stack for the functional tests, and helpers to read its end state."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.messages import InferenceRequested
from chalicelib.shared.naming import on_demand_run_id
from mlrelay.cli.main import app
from mlrelay.local.events import s3_object_created
from mlrelay.local.stack import ACCOUNT_ID, EmbeddedStack
from mlrelay.local.state_file import write_state
from mlrelay.submission import prepare
from mlrelay.synthetic import synthesize
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import valid_config
from tests.functional.local_up import leftovers  # noqa: F401 - the fixture that ends what a `local up` test left

DATA_BUCKET = "mlrelay-demo-data"  # where examples/configs/packaging-type.json points
# A table that passes the trigger's checks (its header is right) and fails training: a single package type.
ONE_CLASS_URI = f"s3://{DATA_BUCKET}/catalogue/one-class.csv"
# what the Split step says of that table (200 rows, one package type): a run with it fails there
ONE_CLASS_CAUSE = "step Split: AlgorithmError: task multiclass_classification needs at least 2 label values; package_type has 1: 'BOX' 200"
DRIFTED_URI = f"s3://{DATA_BUCKET}/catalogue/drifted.csv"  # larger items than the training tables hold
LABELS_URI = f"s3://{DATA_BUCKET}/labels/train-sample.csv"  # true labels of 300 items of catalogue/train.csv


@pytest.fixture(scope="session")
def stack(tmp_path_factory, pytestconfig):
    os.environ["SLACK_MIN_INTERVAL_SECONDS"] = "0.1"  # the spacing itself is unit-tested; here it would only add minutes
    os.environ["FOLDED_RUNS_DELAY_SECONDS"] = "1"  # the post naming folded runs comes 15 minutes later on AWS
    # The code environments of this session's runs, apart from a developer's cache: the first install is tested.
    os.environ["MLRELAY_ENV_CACHE"] = str(tmp_path_factory.mktemp("envs"))
    # The images' environments are shared by both workers and kept between sessions: `make test` builds them first.
    os.environ.setdefault("MLRELAY_IMAGE_ENVS", str(Path(__file__).resolve().parents[2] / "build" / "image-envs"))
    # Wait states and Retry back-offs at a tenth of real time: same attempts and polls, minutes less sleeping.
    with EmbeddedStack(log_dir=tmp_path_factory.mktemp("logs"), time_scale=0.1) as running:
        pytestconfig._mlrelay_stack = running  # the census is written when the session ends
        s3 = running.client("s3")
        s3.create_bucket(Bucket=DATA_BUCKET)
        for key, seed, noise in (("catalogue/train.csv", 1, 0.02), ("catalogue/train-noisy.csv", 2, 0.3)):
            table = synthesize(1500, seed=seed, label_noise=noise).to_csv(index=False).encode()
            s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=table)
        one_class = synthesize(200, seed=5).assign(package_type="BOX").to_csv(index=False).encode()
        s3.put_object(Bucket=DATA_BUCKET, Key=ONE_CLASS_URI.split("/", 3)[3], Body=one_class)
        drifted = synthesize(1500, seed=3, drift="size").to_csv(index=False).encode()
        s3.put_object(Bucket=DATA_BUCKET, Key=DRIFTED_URI.split("/", 3)[3], Body=drifted)
        labels = synthesize(1500, seed=1, label_noise=0.02).sample(300, random_state=0)[["item_id", "package_type"]]
        s3.put_object(Bucket=DATA_BUCKET, Key=LABELS_URI.split("/", 3)[3], Body=labels.to_csv(index=False).encode())
        yield running


@dataclass
class Aws:
    """The running stack's clients and resource names, plus end-state readers."""

    stack: EmbeddedStack

    def __post_init__(self) -> None:
        self.s3 = self.stack.client("s3")
        self.sfn = self.stack.client("stepfunctions")
        self.sqs = self.stack.client("sqs")
        self.dynamodb = self.stack.client("dynamodb")
        self.lambda_ = self.stack.client("lambda")
        self.data = self.stack.client("redshift-data")
        outputs = self.stack.info.outputs
        self.bucket = outputs["ConfigBucketName"]
        self.training_arn = outputs["TrainingStateMachineArn"]
        self.failures_url = outputs["FailuresQueueUrl"]
        self._sns_received: list[dict[str, Any]] = []  # what the alerts topic's local subscriber has had so far

    def drop(self, key: str, body: bytes) -> dict[str, Any]:
        """Upload like a user, then wait until the triggered handlers have finished."""
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.stack.runtime.wait_idle()
        return response

    def event_for(self, key: str, put: dict[str, Any], size: int) -> dict[str, Any]:
        return s3_object_created(self.bucket, key, put.get("VersionId"), put["ETag"], size, ACCOUNT_ID, "us-east-1")

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver an event to the trigger handler once more, as a redelivery would."""
        return self.invoke("on_config_dropped", event)

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke one of the app's functions through the Lambda API and return its answer."""
        response = self.lambda_.invoke(FunctionName=self.stack.info.functions[function], Payload=json.dumps(event).encode())
        assert "FunctionError" not in response, response["Payload"].read()
        return json.loads(response["Payload"].read())

    def runs(self, prefix: str, timeout: float = 120, machine: str = "training") -> list[dict[str, Any]]:
        """Executions of a workflow whose name starts with `prefix`, once all have finished. When none exists, the
        stack is first let settle, so that an empty answer means no such run started, not that none has yet."""
        arn = self.training_arn if machine == "training" else self.stack.info.outputs[f"{machine.title()}StateMachineArn"]
        deadline, settled = time.monotonic() + timeout, False
        while True:
            executions = [
                e for e in self.sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith(prefix)
            ]
            if not executions and not settled:
                self.settle()
                settled = True
                continue
            if all(e["status"] != "RUNNING" for e in executions) or time.monotonic() > deadline:
                return executions
            time.sleep(0.1)

    def waiting_for_pipeline(self, run_prefix: str, timeout: float = 60) -> str:
        """The pipeline execution ARN a run of `run_prefix` waits for, once its workflow has stored its task token."""
        table, deadline = self.stack.applied.ref("PipelineCallbacksTable"), time.monotonic() + timeout
        while True:
            items = self.dynamodb.scan(
                TableName=table, FilterExpression="begins_with(run_id, :run) AND attribute_exists(task_token)",
                ExpressionAttributeValues={":run": {"S": run_prefix}},
            )["Items"]
            if items:
                return items[0]["pipeline_execution_arn"]["S"]
            assert time.monotonic() < deadline, f"no run of {run_prefix} waits for its pipeline after {timeout} s"
            time.sleep(0.1)

    def settle(self, timeout: float = 120) -> None:
        """Until nothing runs and no message waits anywhere in the stack (EmbeddedStack.settle)."""
        assert self.stack.settle(timeout), f"the stack is still busy after {timeout} s: {self.stack.busy()}"

    def failures_for(self, predicate, at_least: int = 1) -> list[dict[str, Any]]:
        """Messages that went through the failures queue (the alerts consumer takes them off it)."""
        return self._queue_traffic("FailuresQueue", predicate, at_least)

    def notifications_for(self, predicate, at_least: int = 1) -> list[dict[str, Any]]:
        return self._queue_traffic("NotificationsQueue", predicate, at_least)

    def _queue_traffic(self, logical_id: str, predicate, at_least: int) -> list[dict[str, Any]]:
        self.stack.wait_idle()
        arn = self.stack.applied.resources[logical_id].attributes["Arn"]
        function = self.stack.info.functions["alerts"]
        deadline = time.monotonic() + 10
        while True:  # the poller picks messages up within a second or two
            found = [m for m in self.stack.runtime.queue_messages(function, arn) if predicate(m)]
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def drop_training_config(self, model_name: str, **config: Any) -> None:
        """Upload a quick training config for `model_name` (off the daily and monthly schedules, which other
        modules fire); the run starts once the trigger has handled it (`stack.runtime.wait_idle()`)."""
        document = valid_config(model_name=model_name, **{"inference": {"daily": False, "monthly": False}, **config})
        self.s3.put_object(Bucket=self.bucket, Key=f"configs/train/{model_name}.json", Body=json.dumps(document))

    def drop_code_config(self, folder: Path, model_name: str, **config: Any) -> dict[str, Any]:
        """Upload a config naming `folder` as its code, the way `mlrelay local drop` does (packed, uploaded, rewritten)."""
        model = {"framework": "sklearn", "entry_point": "train.py", **config.pop("model", {}), "source_dir": str(folder)}
        document = valid_config(model_name=model_name, **{"inference": {"daily": False, "monthly": False}, **config}, model=model)
        path = folder.parent / f"{model_name}.json"
        path.write_text(json.dumps(document))
        submission = prepare(path, self.s3, self.bucket)
        self.s3.put_object(Bucket=self.bucket, Key=f"configs/train/{model_name}.json", Body=submission.body)
        return json.loads(submission.body)

    def monthly_run(self, model_name: str, month: str) -> dict[str, Any]:
        """Start a monthly inference run of one model, as the schedule would, and wait for it to end."""
        run_id = f"infer-{model_name}-monthly-{month}"
        # the input contract is the message the schedule function sends
        run_input = InferenceRequested(run_id=run_id, model_name=model_name, mode="monthly",
                                       scheduled_for=datetime.fromisoformat(f"{month}-01T06:00:00+00:00")).model_dump(mode="json")
        arn = self.stack.info.outputs["InferenceStateMachineArn"]
        self.sfn.start_execution(stateMachineArn=arn, name=run_id, input=json.dumps(run_input))
        (run,) = self.runs(run_id, machine="inference", timeout=180)
        return run

    def on_demand_input(self, model_name: str) -> dict[str, Any]:
        """The input the trigger gives an approved model's on-demand inference runs, from one that succeeded
        (the predictions table is created first)."""
        table = PredictionsTable(*self.stack.info.outputs["PredictionsTableName"].split("."))
        run_statement(self.data, connection_from(self.stack.info.outputs), sqls=create_table_sqls(table))
        key = f"configs/infer/{model_name}.json"
        put = self.drop(key, json.dumps({"schema_version": 1, "model_name": model_name}).encode())
        (baseline,) = self.runs(on_demand_run_id(model_name, self.bucket, key, put["VersionId"]), machine="inference")
        assert baseline["status"] == "SUCCEEDED", baseline
        return json.loads(self.sfn.describe_execution(executionArn=baseline["executionArn"])["input"])

    def slack_posts(self, containing: str, timeout: float = 15) -> list[dict[str, Any]]:
        """Messages the local Slack receiver accepted that mention `containing`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m.message for m in self.stack.slack.messages if containing in json.dumps(m.message, ensure_ascii=False)
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def sns_messages(self, containing: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Notifications the alerts topic delivered (to the local inbox queue) that mention `containing`."""
        inbox = self.stack.info.local["alerts_inbox_url"]
        deadline = time.monotonic() + timeout
        while True:  # Slack is told first, SNS right after
            while batch := self.sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages"):
                for message in batch:
                    self._sns_received.append(json.loads(message["Body"]))
                    self.sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
            found = [n for n in self._sns_received if containing in n["Subject"] + n["Message"]]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def object_versions(self, key: str) -> list[dict[str, Any]]:
        listing = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        return [v for v in listing.get("Versions", []) if v["Key"] == key]

    def read_json(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def run_record(self, run_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=self.stack.applied.ref("RunsTable"), Key={"run_id": {"S": run_id}}
        ).get("Item", {})
        return {name: next(iter(value.values())) for name, value in item.items()}


@pytest.fixture(scope="module")
def cli(stack, tmp_path_factory):
    """`mlrelay ARGS...` against the session's stack, as a person runs it: (exit code, output on one line)."""
    runner = CliRunner()
    state = tmp_path_factory.mktemp("state") / "local.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLRELAY_STATE_FILE", str(state))
        write_state(stack.info)

        def invoke(*args):
            result = runner.invoke(app, list(args), terminal_width=200)
            return result.exit_code, " ".join(result.output.split())
        yield invoke


@pytest.fixture(scope="session")
def aws(stack):
    return Aws(stack)


class EarlyPipelines:
    """Runs (by run id prefix) whose pipelines end before their workflow starts waiting for them."""

    def __init__(self, stack):
        self.stack, self.faults = stack, []

    def append(self, run_prefix):
        self.faults.append(self.stack.faults.end_pipeline_early(run_prefix))


@pytest.fixture(scope="module")
def early_pipelines(aws):
    early = EarlyPipelines(aws.stack)
    yield early
    for fault in early.faults:
        aws.stack.faults.remove(fault)


@pytest.fixture(autouse=True)
def iam_census(request):
    """Every AccessDenied a test did not ask for fails it; what each role used is written for the census.

    A test that expects a denial says so with `@pytest.mark.access_denied("ROLE-SUFFIX", "service:Action")`.
    """
    if "stack" not in request.fixturenames:
        yield
        return
    running = request.getfixturevalue("stack")
    census = running.iam.census
    census.current_test = request.node.nodeid
    yield
    running.wait_idle()
    census.current_test = ""
    # every denial since the last test's check: a module fixture's count for the first test that uses it
    denials = census.denials_since(census.checked)
    census.checked = len(census.denials)
    expected = [m.args for m in request.node.iter_markers("access_denied")]
    unexpected = [d for d in denials if not any(d.principal.endswith(role) and d.action == action for role, action in expected)]
    if unexpected:
        pytest.fail("AccessDenied the test did not ask for:\n" + "\n".join(sorted({d.message for d in unexpected})), pytrace=False)
    for role, action in expected:
        if not any(d.principal.endswith(role) and d.action == action for d in denials):
            pytest.fail(f"the test expected {role} to be denied {action}, and it was not", pytrace=False)


def pytest_sessionfinish(session):
    """build/iam-census/<worker>.json: per role, what it was allowed, which statements were used, and by which tests."""
    running = getattr(session.config, "_mlrelay_stack", None)
    if running is not None and running.iam is not None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        running.iam.census.write(Path(__file__).resolve().parents[2] / "build" / "iam-census" / f"{worker}.json", running.iam.model)
