"""The checks `mlrelay doctor` runs on a stack: reads only (but --send-test's one Slack message), each a Finding.

Each check takes the clients it reads and the ExpectedStack; a call AWS refuses is a failed check that says
what was refused, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mlrelay.deploy_checks import CONCURRENCY_QUOTA, UNRESERVED_FLOOR
from mlrelay.doctor.expected import ExpectedStack
from mlrelay.packaging import CODE_HASH_METADATA

HEALTHY_STACK = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""  # what to do, when not ok


Client = Callable[[str], Any]


def stack_status(cfn: Any, expected: ExpectedStack, redeploy: str) -> Finding:
    try:
        status = cfn.describe_stacks(StackName=expected.stack_name)["Stacks"][0]["StackStatus"]
    except ClientError as err:
        if "does not exist" not in str(err):
            raise
        return Finding(False, f"stack {expected.stack_name} does not exist", f"deploy it: make deploy STAGE={expected.stage}")
    if status in HEALTHY_STACK:
        return Finding(True, f"stack {expected.stack_name} is {status}")
    if status.endswith("_IN_PROGRESS"):
        return Finding(False, f"stack {expected.stack_name} is {status}", "wait until CloudFormation finishes, then run doctor again")
    return Finding(False, f"stack {expected.stack_name} is {status}", f"see its events in the CloudFormation console, then {redeploy}")


def bucket_sends_events(s3: Any, expected: ExpectedStack) -> Finding:
    configuration = s3.get_bucket_notification_configuration(Bucket=expected.bucket)
    if "EventBridgeConfiguration" in configuration:
        return Finding(True, f"bucket {expected.bucket} sends its events to EventBridge")
    return Finding(False, f"bucket {expected.bucket} does not send its events to EventBridge: dropped configs start nothing",
                   f"aws s3api put-bucket-notification-configuration --bucket {expected.bucket} "
                   "--notification-configuration '{\"EventBridgeConfiguration\": {}}'")


def rules(events: Any, expected: ExpectedStack, redeploy: str) -> Iterator[Finding]:
    for rule in expected.rules:
        try:
            described = events.describe_rule(Name=rule.name)
        except ClientError as err:
            if _code(err) != "ResourceNotFoundException":
                raise
            yield Finding(False, f"rule {rule.name} does not exist", redeploy)
            continue
        targets = {t["Arn"] for t in events.list_targets_by_rule(Rule=rule.name)["Targets"]}
        enabled = described["State"] == "ENABLED"
        if enabled != rule.enabled:
            yield Finding(False, f"rule {rule.name} is {described['State']}", f"aws events enable-rule --name {rule.name}"
                          if rule.enabled else f"aws events disable-rule --name {rule.name}")
        elif targets != rule.targets:
            missing, extra = sorted(rule.targets - targets), sorted(targets - rule.targets)
            yield Finding(False, f"rule {rule.name} targets {_short(targets)}, not {_short(rule.targets)}"
                          f" (missing {_short(missing)}, unexpected {_short(extra)})", redeploy)
        else:
            yield Finding(True, f"rule {rule.name} is {described['State']} and targets {_short(targets)}")


def functions(lambda_: Any, cfn: Any, expected: ExpectedStack, redeploy: str) -> Finding:
    code = _recorded_code_hash(cfn, expected)
    missing, other_code = [], []
    for name in expected.functions:
        try:
            configuration = lambda_.get_function(FunctionName=name)["Configuration"]
        except ClientError as err:
            if _code(err) != "ResourceNotFoundException":
                raise
            missing.append(name)
            continue
        if code and configuration["CodeSha256"] != code:
            other_code.append(name)
    count = len(expected.functions)
    if missing:
        return Finding(False, f"{len(missing)} of {count} functions do not exist: {', '.join(missing)}", redeploy)
    if not code:
        return Finding(False, f"{count} functions exist, but the stack records no code hash ({CODE_HASH_METADATA})",
                       f"deploy with this version of mlrelay: {redeploy}")
    if other_code:
        return Finding(False, f"{len(other_code)} of {count} functions run other code than the stack deployed "
                       f"({', '.join(other_code)})", f"someone changed them by hand: {redeploy}")
    return Finding(True, f"{count} functions exist, each with the deployed code (sha256 {code[:12]}…)")


def slack_parameter(ssm: Any, expected: ExpectedStack, send_test: bool) -> Iterator[Finding]:
    name = expected.parameters.get("SlackWebhookParameterName", "")
    if not name:
        yield Finding(False, "the stage names no Slack webhook parameter: alerts reach SNS only",
                      f"set SlackWebhookParameterName in infra/parameters/{expected.stage}.json and redeploy")
        return
    put = f"aws ssm put-parameter --type SecureString --name {name} --value https://hooks.slack.com/services/..."
    try:
        url = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as err:
        if _code(err) != "ParameterNotFound":
            raise
        yield Finding(False, f"Slack webhook parameter {name} is not set: alerts reach SNS only", put)
        return
    if not url.startswith(("https://", "http://")):
        yield Finding(False, f"Slack webhook parameter {name} does not hold a URL", put)
        return
    yield Finding(True, f"Slack webhook parameter {name} is set")
    if send_test:
        yield _post_test_message(url, expected)


def _post_test_message(url: str, expected: ExpectedStack) -> Finding:
    from slack_sdk.webhook import WebhookClient

    text = f"mlrelay doctor: a test message from stage {expected.stage} ({expected.stack_name}). Alerts will arrive here."
    try:
        response = WebhookClient(url, timeout=10).send(text=text)
    except OSError as err:
        return Finding(False, f"the test message did not reach Slack: {err}", "check the webhook URL in the parameter")
    if response.status_code != 200:
        return Finding(False, f"Slack refused the test message: {response.status_code} {response.body[:200]}",
                       "create a new incoming webhook in Slack and put its URL in the parameter")
    return Finding(True, "a test message was posted to Slack")


def warehouse(data: Any, outputs: dict[str, str]) -> Iterator[Finding]:
    from chalicelib.inference.warehouse_sql import PREDICTIONS_TABLE_COLUMNS, PredictionsTable, columns_sql
    from mlrelay.warehouse_client import WarehouseQueryError, connection_from, result_table, run_statement

    connection = connection_from(outputs)
    where = ", ".join(f"{key} {value}" for key, value in connection.items())
    try:
        run_statement(data, connection, "SELECT 1", timeout=60)
    except WarehouseQueryError as err:
        yield Finding(False, f"the warehouse ({where}) does not answer SELECT 1: {err}",
                      "check the workgroup or cluster, the database and the stage's Redshift parameters")
        return
    yield Finding(True, f"the warehouse ({where}) answers SELECT 1")
    table = outputs["PredictionsTableName"]
    sql, parameters = columns_sql(PredictionsTable(*table.split(".")))
    listed = run_statement(data, connection, sql, parameters=parameters, timeout=60)
    columns = {str(row[0]) for row in result_table(data, listed["Id"])[1]} if listed.get("HasResultSet") else set()
    missing = [c for c in PREDICTIONS_TABLE_COLUMNS if c not in columns]
    if not columns:
        yield Finding(False, f"the predictions table {table} does not exist", "mlrelay warehouse init")
    elif missing:
        yield Finding(False, f"the predictions table {table} lacks {', '.join(missing)}", "mlrelay warehouse migrate")
    else:
        yield Finding(True, f"the predictions table {table} has the {len(PREDICTIONS_TABLE_COLUMNS)} expected columns")


def pipelines(sagemaker: Any, expected: ExpectedStack, redeploy: str) -> Iterator[Finding]:
    for pipeline in expected.pipelines:
        try:
            described = sagemaker.describe_pipeline(PipelineName=pipeline.name)
        except ClientError as err:
            if _code(err) != "ResourceNotFound":
                raise
            yield Finding(False, f"pipeline {pipeline.name} does not exist", redeploy)
            continue
        difference = first_difference(pipeline.definition, json.loads(described["PipelineDefinition"]))
        if difference:
            yield Finding(False, f"pipeline {pipeline.name} differs from {pipeline.definition_file} at {difference}", redeploy)
        else:
            yield Finding(True, f"pipeline {pipeline.name} matches {pipeline.definition_file}")


def images(s3: Any, expected: ExpectedStack, region: str) -> Finding:
    from chalicelib.shared.images import UnknownImageError, processing_image

    in_use = frameworks_in_use(s3, expected.bucket)
    try:
        processing_image(region)
        for framework, version in sorted(in_use):
            _framework_images(framework, version, region)
    except UnknownImageError as err:
        return Finding(False, f"an image the stage needs does not resolve in {region}: {err}",
                       "deploy the stage to a region that has it, or name an image_uri in the config")
    named = ", ".join(f"{f} {v}" for f, v in sorted(in_use)) or "no framework configs yet"
    return Finding(True, f"the images resolve in {region}: processing, {named}")


def frameworks_in_use(s3: Any, bucket: str) -> set[tuple[str, str]]:
    """(framework, version) of every training config in the bucket that parses; built-in models are sklearn's."""
    from chalicelib.config.parsing import ConfigError, parse_config
    from chalicelib.config.schema import ModelConfig
    from chalicelib.shared.images import default_version

    found = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="configs/train/"):
        for item in page.get("Contents", []):
            try:
                config: ModelConfig = parse_config(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read(), item["Key"])
            except ConfigError:
                continue  # the drop refused it already
            framework = getattr(config.model, "framework", "sklearn")
            if framework != "custom":
                found.add((framework, getattr(config.model, "framework_version", None) or default_version(framework)))
    return found


def _framework_images(framework: str, version: str, region: str) -> None:
    from chalicelib.shared.images import image_uri

    instance = "ml.g5.xlarge" if framework == "huggingface" else "ml.m5.large"
    for scope in ("training", "inference"):
        image_uri(framework, version, scope, region, instance)


def concurrency(lambda_: Any) -> Finding:
    limit = lambda_.get_account_settings()["AccountLimit"]
    total, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    if unreserved < UNRESERVED_FLOOR:
        return Finding(False, f"only {unreserved} of the account's {total} concurrent executions are unreserved",
                       f"lower reserved_concurrency in .chalice/config.json, or ask for more (Service Quotas, {CONCURRENCY_QUOTA})")
    return Finding(True, f"{unreserved} of the account's {total} concurrent executions are unreserved (at least "
                   f"{UNRESERVED_FLOOR} must be)")


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """The JSON path of the first place `actual` differs from `expected`, or None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{path}.{key}"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path} ({len(actual)} items, not {len(expected)})"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else path


def _recorded_code_hash(cfn: Any, expected: ExpectedStack) -> str | None:
    body = cfn.get_template(StackName=expected.stack_name)["TemplateBody"]
    document = json.loads(body) if isinstance(body, str) else body
    return document.get("Metadata", {}).get(CODE_HASH_METADATA)


def _short(arns: Any) -> str:
    names = sorted(str(arn).rsplit(":", 1)[-1].rsplit("/", 1)[-1] for arn in arns)
    return ", ".join(names) or "nothing"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))

