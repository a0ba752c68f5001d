"""Every change mlrelay makes to moto's behaviour, and the only place that imports moto or touches its objects
(tests/unit/test_moto_seam.py fails on a moto import anywhere else): one module per emulated service, `server`
(moto's server on a loopback port) and `state` (moto's backends saved to a durable stack's folder and put back).

moto 5.2.5 (pinned in requirements-dev.txt) lacks things the local stack
needs; each patch makes moto act as AWS does, nothing more:

- iam: moto's own IAM check compares most actions with "*" and ignores
  conditions; every request is authorized by mlrelay/local/iam for the
  principal whose keys signed it, and Step Functions' service integrations
  sign with their state machine's role instead of a fixed key.
- lambda_: Lambda `Invoke` runs code only in Docker; invocations of the app's
  functions are routed to its handlers, in process. The account's concurrency
  is 1000, reservations must leave 100 unreserved, and GetAccountSettings says so.
- events: EventBridge rules cannot target Lambda; they deliver to Lambda
  targets as asynchronous invocations, applying the InputTransformer, when
  the target's policy allows the rule. S3's
  events get AWS's shape (ISO `time`, `etag`). A schedule rule gets only its own
  ticks (moto treats a rule without a pattern as "match every event").
- sagemaker: pipeline executions run no steps and report Succeeded at once;
  they go to the local runner. A missing pipeline or execution is
  ResourceNotFound, as SageMaker answers. ClientRequestToken counts, DescribePipelineExecution
  reports the FailureReason, ListPipelineExecutionSteps, RetryPipelineExecution,
  DeleteModelPackage and DeleteModelPackageGroup exist.
- stepfunctions: SendTaskFailure keeps its `cause`; the `redshiftdata` SDK
  integration name maps to boto3's `redshift-data`; StopExecution aborts an
  execution that waits for a task token at once; a task token takes one
  answer (moto took a second). Three test hooks: a Task
  state's attempt can fail with a chosen error before it calls its service,
  the answer to a waiting task can be refused (mlrelay/local/faults.py), and
  Wait states and Retry back-offs can run on a faster clock.
- redshift_data: the Data API executes no SQL; the local warehouse answers it.
- s3: reads of one object can be made slow (the fault plan's slow_reads, a test hook);
  GetBucketNotificationConfiguration reports the bucket's EventBridge setting.
- dynamodb: each item write runs alone, so a conditional write and another
  write to the same item cannot interleave (moto's threads could; DynamoDB's
  writes are atomic). A test hook: conditional writes can be held until
  several have come (a race made to happen).

Each module's `patched(...)` is a context manager: EmbeddedStack enters them
all on one ExitStack, so stopping the stack, or a start that fails half-way,
leaves moto exactly as it was. tests/unit/test_emulated_services.py pins the
moto internals they rely on, and test_moto_seam.py every private name, so a
moto upgrade that moves them fails loudly.
"""
