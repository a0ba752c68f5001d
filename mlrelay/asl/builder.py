"""Build Step Functions definitions from small Python objects, so each thing is written once.

A workflow declares its states in order. Each Task names its retry policy
(one of the few shapes below) and the step its failures are reported as; the
builder writes its Retry and Catch, one "<step>Failed" Pass state per
reported step (it names the step for the failure message), the StartOrResume
entry that routes a resumed run straight to its failed step, and the failure
path every workflow shares (report ▸ mark the run failed ▸ fail).

The naming Pass states would be one `Assign` each on AWS, but moto 5.2.5
fails any execution that reads a JSONPath variable (../shared/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAILURE_PATH = ("ReportFailure", "MarkRunFailed", "FailureKind", "RunFailedInWorkflow", "RunFailed", "UnknownResumePoint")
NAMES_THE_FAILED_STEP = "Names the failed step for the failure message."
POLL_SECONDS = 1  # between Data API status checks
# No JSON null in a definition (AWS::LanguageExtensions strips them, the Serverless Application Repository refuses
# them): a write whose answer nothing reads keeps only its state's name, here, instead of `"ResultPath": null`.
LAST_WRITE = "$.last_write"


# Each service integration's ARN is a substitution the template fills in with its partition (aws, aws-cn,
# aws-us-gov): the ASL validators accept a Resource that is one whole ${...}, not an ARN with one inside.
INTEGRATIONS = {
    "LambdaInvoke": "lambda:invoke",
    "DynamoDbGetItem": "dynamodb:getItem",
    "DynamoDbUpdateItem": "dynamodb:updateItem",
    "SqsSendMessage": "sqs:sendMessage",
    "StartExecutionSync": "states:startExecution.sync:2",
    "SdkSageMakerStartPipelineExecution": "aws-sdk:sagemaker:startPipelineExecution",
    "SdkDynamoDbUpdateItemWaitForTaskToken": "aws-sdk:dynamodb:updateItem.waitForTaskToken",
    "SdkRedshiftDataDescribeStatement": "aws-sdk:redshiftdata:describeStatement",
}
_BY_INTEGRATION = {integration: name for name, integration in INTEGRATIONS.items()}


def service(integration: str) -> str:
    """A Task's Resource for a Step Functions service integration, e.g. "sqs:sendMessage"."""
    return f"${{{_BY_INTEGRATION[integration]}}}"


def integration_arn_template(name: str) -> str:
    """What the template substitutes for ${name}: the integration's ARN in the stack's partition (for Fn::Sub)."""
    return f"arn:${{AWS::Partition}}:states:::{INTEGRATIONS[name]}"


def answer_discarded(name: str) -> dict[str, Any]:
    """ResultSelector and ResultPath of a Task whose answer is not needed: its input passes on unchanged but for LAST_WRITE."""
    return {"ResultSelector": {"state": name}, "ResultPath": LAST_WRITE}


@dataclass(frozen=True)
class RetryPolicy:
    """Transient errors of one integration, retried with bounded exponential backoff and full jitter."""

    errors: tuple[str, ...]
    interval_seconds: int
    max_delay_seconds: int
    max_attempts: int = 4

    def asl(self) -> dict[str, Any]:
        return {
            "ErrorEquals": list(self.errors), "IntervalSeconds": self.interval_seconds, "MaxAttempts": self.max_attempts,
            "BackoffRate": 2.0, "MaxDelaySeconds": self.max_delay_seconds, "JitterStrategy": "FULL",
        }


def _dynamodb_errors(prefix: str) -> tuple[str, ...]:
    names = ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerErrorException", "RequestLimitExceeded")
    return tuple(f"{prefix}.{name}" for name in names)


# The optimized DynamoDB integration names its errors "DynamoDB.*"; the aws-sdk one "DynamoDb.*".
DYNAMODB = RetryPolicy(_dynamodb_errors("DynamoDB"), 1, 20)
DYNAMODB_SDK = RetryPolicy(_dynamodb_errors("DynamoDb"), 1, 20)
LAMBDA = RetryPolicy(
    ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"), 2, 30
)
SAGEMAKER = RetryPolicy(
    ("SageMaker.ThrottlingException", "SageMaker.InternalFailure", "SageMaker.ServiceUnavailableException",
     "SageMaker.SdkClientException"), 2, 30,
)
SQS = RetryPolicy(("SQS.SdkClientException", "SQS.AmazonSQSException"), 1, 20)
REDSHIFT_DATA = RetryPolicy(
    ("RedshiftData.ThrottlingException", "RedshiftData.InternalServerException", "RedshiftData.SdkClientException"), 2, 30
)


@dataclass(frozen=True)
class Catch:
    """A Catch that is not the failure path (it routes a known error somewhere useful)."""

    errors: tuple[str, ...]
    result_path: str
    next: str


@dataclass
class StateMachine:
    workflow: str  # "training", "inference", "segments" or "deploy": what the failure message says
    comment: str
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    reported_steps: list[str] = field(default_factory=list)  # in order: each is a resume point

    def task(
        self, name: str, resource: str, *, retry: RetryPolicy, next: str, parameters: dict[str, Any] | None = None,
        result_selector: dict[str, Any] | None = None, result_path: str | None = "$", comment: str | None = None,
        reported_as: str | None = None, catches: tuple[Catch, ...] = (), retries: tuple[RetryPolicy, ...] = (), **extra: Any,
    ) -> None:
        """A Task whose transient errors `retry` retries and whose other errors fail the run as `reported_as`."""
        reported = reported_as or name
        state: dict[str, Any] = {"Type": "Task"}
        if comment:
            state["Comment"] = comment
        state["Resource"] = resource
        if parameters is not None:
            state["Parameters"] = parameters
        state.update(extra)
        if result_path is None:
            state.update(answer_discarded(name))
        else:
            if result_selector is not None:
                state["ResultSelector"] = result_selector
            state["ResultPath"] = result_path
        state["Retry"] = [retry.asl(), *(policy.asl() for policy in retries)]
        state["Catch"] = [
            {"ErrorEquals": list(c.errors), "ResultPath": c.result_path, "Next": c.next} for c in catches
        ] + [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": f"{reported}Failed"}]
        state["Next"] = next
        self.add(name, state)
        if reported not in self.reported_steps:
            self.reported_steps.append(reported)

    def fail_as(
        self, name: str, reported_as: str, *, error: str | None = None, error_path: str | None = None, cause_path: str,
    ) -> None:
        """A Pass that sets an error of our own and takes the failure path as `reported_as`."""
        failure = {"Error": error} if error is not None else {"Error.$": error_path}
        self.add(name, {
            "Type": "Pass", "Parameters": {**failure, "Cause.$": cause_path}, "ResultPath": "$.failure",
            "Next": f"{reported_as}Failed",
        })

    def add(self, name: str, state: dict[str, Any]) -> None:
        if name in self.states:
            raise ValueError(f"state {name} is declared twice")
        self.states[name] = state

    def definition(self) -> dict[str, Any]:
        first = next(iter(self.states))
        states = {"StartOrResume": self._start_or_resume(first), **self.states}
        for step in sorted(self.reported_steps):
            states[f"{step}Failed"] = {
                "Type": "Pass", "Comment": NAMES_THE_FAILED_STEP, "Result": {"name": step},
                "ResultPath": "$.failed_state", "Next": "ReportFailure",
            }
        states.update(self._failure_path())
        return {"Comment": self.comment, "StartAt": "StartOrResume", "States": states}

    def _start_or_resume(self, first: str) -> dict[str, Any]:
        return {
            "Type": "Choice",
            "Comment": "A resumed run (mlrelay runs resume) enters at the step that failed, with the input that step "
            "had; a new run starts at the top.",
            "Choices": [{"Variable": "$.resume", "IsPresent": False, "Next": first}]
            + [{"Variable": "$.resume.from", "StringEquals": step, "Next": step} for step in self.reported_steps],
            "Default": "UnknownResumePoint",
        }

    def _failure_path(self) -> dict[str, dict[str, Any]]:
        return {
            "ReportFailure": {
                "Type": "Task",
                "Comment": "The failure path: one structured message per failed run. A failure to report still fails the run.",
                "Resource": service("sqs:sendMessage"),
                "Parameters": {
                    "QueueUrl": "${FailuresQueueUrl}",
                    # chalicelib/shared/messages.py StepFailed: a test checks every required field is here
                    "MessageBody": {
                        "kind": "step_failed", "workflow": self.workflow, "run_id.$": "$.run_id",
                        "model_name.$": "$.model_name", "execution_arn.$": "$$.Execution.Id", "error.$": "$.failure.Error",
                        "cause.$": "$.failure.Cause", "occurred_at.$": "$$.State.EnteredTime", "state.$": "$.failed_state.name",
                    },
                },
                **answer_discarded("ReportFailure"),
                "Retry": [SQS.asl()],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.report_failure", "Next": "MarkRunFailed"}],
                "Next": "MarkRunFailed",
            },
            "MarkRunFailed": {
                "Type": "Task",
                "Resource": service("dynamodb:updateItem"),
                "Parameters": {
                    "TableName": "${RunsTable}",
                    "Key": {"run_id": {"S.$": "$.run_id"}},
                    "UpdateExpression": "SET #status = :failed, workflow = :workflow, failed_error = :error, "
                    "failed_state = :state, resume_input = :input, failed_execution_arn = :execution_arn",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":failed": {"S": "FAILED"}, ":error": {"S.$": "$.failure.Error"}, ":state": {"S.$": "$.failed_state.name"},
                        ":input": {"S.$": "States.JsonToString($)"}, ":execution_arn": {"S.$": "$$.Execution.Id"},
                        ":workflow": {"S.$": "$.workflow"},
                    },
                },
                **answer_discarded("MarkRunFailed"),
                "Retry": [DYNAMODB.asl()],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.ledger_failure", "Next": "FailureKind"}],
                "Next": "FailureKind",
                "Comment": "Records the failed step and the input it had, which is where `mlrelay runs resume` re-enters.",
            },
            "FailureKind": {
                "Type": "Choice",
                "Comment": "A run may not fail with an error name of Step Functions' own (States.*), so those are wrapped.",
                "Choices": [{"Variable": "$.failure.Error", "StringMatches": "States.*", "Next": "RunFailedInWorkflow"}],
                "Default": "RunFailed",
            },
            "RunFailedInWorkflow": {
                "Type": "Fail", "Error": "WorkflowError", "CausePath": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)",
            },
            "RunFailed": {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"},
            "UnknownResumePoint": {
                "Type": "Fail",
                "Comment": "Only steps this workflow can name as failed can be resumed.",
                "Error": "UnknownResumePoint",
                "CausePath": "States.Format('cannot resume at {}: no such step in this workflow', $.resume.from)",
            },
        }


def lambda_step(
    machine: StateMachine, name: str, function: str, step: str, payload: dict[str, Any], *, next: str,
    result: dict[str, str] | None, result_path: str, comment: str | None = None, reported_as: str | None = None,
    retries: tuple[RetryPolicy, ...] = (),
) -> None:
    """A Task that invokes one of the app's step functions; `result` picks fields of its answer."""
    machine.task(
        name, service("lambda:invoke"), retry=LAMBDA, next=next, comment=comment, reported_as=reported_as, retries=retries,
        parameters={"FunctionName": function, "Payload": {"step": step, **payload}},
        result_selector={f"{key}.$": f"$.Payload{path}" for key, path in result.items()} if result is not None else None,
        result_path=result_path,
    )


def update_run(
    machine: StateMachine, name: str, expression: str, values: dict[str, Any], *, next: str, comment: str,
    names: dict[str, str] | None = None,
) -> None:
    """An update of the run's ledger item (the runs table)."""
    machine.task(
        name, service("dynamodb:updateItem"), retry=DYNAMODB, next=next, result_path=None,
        parameters={
            "TableName": "${RunsTable}", "Key": {"run_id": {"S.$": "$.run_id"}}, "UpdateExpression": expression,
            "ExpressionAttributeNames": names or {"#status": "status"}, "ExpressionAttributeValues": values,
        },
        Comment=comment,
    )


def record_run_started(machine: StateMachine, assignments: str, values: dict[str, Any], next: str, **names: str) -> None:
    update_run(
        machine, "RecordRunStarted",
        f"SET workflow = :workflow, model_name = :model_name, {assignments}, execution_arn = :execution_arn, "
        "#status = :running, started_at = if_not_exists(started_at, :now)",
        {":workflow": {"S.$": "$.workflow"}, ":model_name": {"S.$": "$.model_name"}, **values,
         ":execution_arn": {"S.$": "$$.Execution.Id"}, ":running": {"S": "RUNNING"}, ":now": {"S.$": "$$.State.EnteredTime"}},
        next=next, names={"#status": "status", **names},
        comment="An update, not a put: a resumed run keeps what the ledger says about its earlier attempts.",
    )


def record_run_succeeded(machine: StateMachine, assignments: str, values: dict[str, Any], next: str) -> None:
    update_run(
        machine, "RecordRunSucceeded", f"SET #status = :succeeded, {assignments}",
        {":succeeded": {"S": "SUCCEEDED"}, **values}, next=next,
        comment="Last, so that a run resumed at any step ends recorded as succeeded.",
    )


def notify(machine: StateMachine, name: str, message_path: str, next: str, comment: str) -> None:
    machine.task(
        name, service("sqs:sendMessage"), retry=SQS, next=next, comment=comment, result_path=None,
        parameters={"QueueUrl": "${NotificationsQueueUrl}", "MessageBody.$": message_path},
    )


def run_pipeline(
    machine: StateMachine, noun: str, pipeline_name: str, settings: str, next: str, start_comment: str,
) -> None:
    """Start a SageMaker pipeline and wait for it by callback (no polling), with the early-end path.

    The wait stores its task token against the pipeline execution; the pipeline's
    status event answers it (chalicelib/pipeline_status). If the pipeline already
    ended, the conditional write fails and the outcome its event stored is read.
    """
    start, wait = f"Start{noun}Pipeline", f"WaitFor{noun}Pipeline"
    machine.task(
        start, service("aws-sdk:sagemaker:startPipelineExecution"), retry=SAGEMAKER, next=wait,
        comment=start_comment, result_path="$.pipeline",
        parameters={
            # a path: each run names its pipeline (the base one, or a copy with its hyperparameters)
            **({"PipelineName.$": pipeline_name} if pipeline_name.startswith("$.") else {"PipelineName": pipeline_name}),
            "PipelineExecutionDisplayName.$": f"{settings}.pipeline_display_name",
            "PipelineExecutionDescription.$": "$.run_id",
            "ClientRequestToken.$": f"{settings}.pipeline_client_token",
            "PipelineParameters.$": f"{settings}.pipeline_parameters",
        },
        result_selector={"execution_arn.$": "$.PipelineExecutionArn"},
    )
    machine.task(
        wait, service("aws-sdk:dynamodb:updateItem.waitForTaskToken"), retry=DYNAMODB_SDK, next=next,
        comment="Stores this task's token against the pipeline execution and waits (no polling): the pipeline's status "
        "event answers it. If the pipeline already ended, the condition fails and the stored outcome is read instead. "
        "The timeout ends a run whose event was lost.",
        parameters={
            "TableName": "${PipelineCallbacksTable}",
            "Key": {"pipeline_execution_arn": {"S.$": "$.pipeline.execution_arn"}},
            "UpdateExpression": "SET task_token = :token, run_id = :run_id",
            "ConditionExpression": "attribute_not_exists(pipeline_status)",
            "ExpressionAttributeValues": {":token": {"S.$": "$$.Task.Token"}, ":run_id": {"S.$": "$.run_id"}},
        },
        TimeoutSecondsPath=f"{settings}.callback_timeout_seconds",
        result_path="$.pipeline.outcome",
        catches=(Catch(("DynamoDb.ConditionalCheckFailedException",), "$.pipeline.early", "ReadPipelineOutcome"),),
    )
    machine.task(
        "ReadPipelineOutcome", service("dynamodb:getItem"), retry=DYNAMODB, next="PipelineSucceeded",
        comment="The pipeline ended before the token was stored; its status event left the outcome here.",
        parameters={
            "TableName": "${PipelineCallbacksTable}",
            "Key": {"pipeline_execution_arn": {"S.$": "$.pipeline.execution_arn"}}, "ConsistentRead": True,
        },
        result_selector={"status.$": "$.Item.pipeline_status.S", "failure_reason.$": "$.Item.failure_reason.S"},
        result_path="$.pipeline.outcome",
    )
    machine.add("PipelineSucceeded", {
        "Type": "Choice",
        "Choices": [{"Variable": "$.pipeline.outcome.status", "StringEquals": "Succeeded", "Next": next}],
        "Default": "PipelineDidNotSucceed",
    })
    machine.fail_as(
        "PipelineDidNotSucceed", wait, error_path="States.Format('Pipeline{}', $.pipeline.outcome.status)",
        cause_path="States.Format('SageMaker pipeline execution ended {}: {}', $.pipeline.outcome.status, "
        "$.pipeline.outcome.failure_reason)",
    )


def statement_poll(
    machine: StateMachine, noun: str, started_by: str, result: str, *, what: str, next: str, error: str, max_polls: int = 600,
) -> None:
    """Wait for a Data API statement with a bounded Wait loop: no Lambda sleeps while Redshift works.

    `result` is where `started_by` put the statement id (e.g. "$.load"). A failed
    statement's own error is read for the failure path, reported as `started_by`,
    which is also the step a resume goes back to.
    """
    key = result.removeprefix("$.")
    machine.add(f"Init{noun}Polls", {"Type": "Pass", "Result": {"n": 0}, "ResultPath": f"$.{key}_polls", "Next": f"WaitFor{noun}"})
    # A second between checks: a load of a million rows takes seconds, and a poll costs one transition.
    machine.add(f"WaitFor{noun}", {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": f"Check{noun}"})
    machine.task(
        f"Check{noun}", service("aws-sdk:redshiftdata:describeStatement"), retry=REDSHIFT_DATA,
        next=f"{noun}Finished", parameters={"Id.$": f"{result}.statement_id"},
        comment=f"DescribeStatement: has {what} finished? Only the status is kept: the response's timestamps are not JSON.",
        result_selector={"status.$": "$.Status"}, result_path=f"$.{key}_check",
    )
    machine.add(f"{noun}Finished", {
        "Type": "Choice",
        "Comment": f"A bounded loop: at most {max_polls} checks {POLL_SECONDS} s apart ({max_polls * POLL_SECONDS // 60} minutes) "
                   f"for {what}.",
        "Choices": [
            {"Variable": f"$.{key}_check.status", "StringEquals": "FINISHED", "Next": next},
            {"Or": [{"Variable": f"$.{key}_check.status", "StringEquals": status} for status in ("FAILED", "ABORTED")],
             "Next": f"{noun}Failed"},
            {"Variable": f"$.{key}_polls.n", "NumericGreaterThanEquals": max_polls, "Next": f"{noun}TimedOut"},
        ],
        "Default": f"Count{noun}Poll",
    })
    machine.add(f"Count{noun}Poll", {
        "Type": "Pass", "Parameters": {"n.$": f"States.MathAdd($.{key}_polls.n, 1)"}, "ResultPath": f"$.{key}_polls",
        "Next": f"WaitFor{noun}",
    })
    machine.task(
        f"{noun}Failed", service("aws-sdk:redshiftdata:describeStatement"), retry=REDSHIFT_DATA,
        next=f"{started_by}Failed", reported_as=started_by, parameters={"Id.$": f"{result}.statement_id"},
        comment="Reads the statement's error (the database's own message) for the failure path.",
        result_selector={"Error": error, "Cause.$": "$.Error"}, result_path="$.failure",
    )
    minutes = max_polls * POLL_SECONDS // 60
    machine.fail_as(
        f"{noun}TimedOut", started_by, error=f"{error}TimedOut",
        cause_path=f"States.Format('{what} did not finish within {minutes} minutes (statement {{}})', {result}.statement_id)",
    )
