"""Create the template's resources on the emulator through the AWS APIs.

moto's own CloudFormation drops a bucket's EventBridge setting and puts state
machines outside the executing Step Functions backend, so this small applier
reads infra/resources.json and calls the same APIs CloudFormation would.
Resource types it does not emulate (IAM, permissions, alarms) are listed in
NOT_EMULATED and reported; any other unknown type stops the stack.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlrelay.local.iam import template_model
from mlrelay.local.iam.principals import IamModel
from mlrelay.local.sqs_poller import MappingSpec
from mlrelay.local.template import Template, TemplateError, evaluate_condition, resolve

NOT_EMULATED = {
    "AWS::IAM::Role": "evaluated by the embedded stack's IAM (mlrelay/local/iam), not created in moto",
    "AWS::Lambda::Permission": "evaluated by the embedded stack's IAM when EventBridge invokes a function",
    "AWS::CloudWatch::Alarm": "nothing evaluates alarms locally",
    # moto would enforce it with its own evaluator over plain HTTP (aws:SecureTransport false): the stack's IAM
    # evaluates it instead, with the TLS the SDKs use on AWS.
    "AWS::S3::BucketPolicy": "evaluated by the embedded stack's IAM (mlrelay/local/iam)",
}


@dataclass
class Physical:
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function that `chalice package` generates (not in our template)."""

    logical_id: str
    name: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    reserved_concurrency: int | None = None


@dataclass
class AppliedStack:
    resources: dict[str, Physical]
    created: dict[str, str]  # logical id -> resource type, for what the template declared
    function_environment: dict[str, dict[str, str]]  # function name -> variables
    skipped: dict[str, str]  # logical id -> why it is not emulated
    state_machine_definitions: dict[str, str]  # logical id -> definition after substitution
    pipeline_definitions: dict[str, str]  # logical id -> SageMaker pipeline definition after substitution
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters and pseudo parameters
    event_source_mappings: list[MappingSpec] = field(default_factory=list)
    failure_destinations: dict[str, str] = field(default_factory=dict)  # function name -> queue URL
    iam: IamModel | None = None  # roles, resource policies and keys, evaluated on every request

    def ref(self, logical_id: str) -> str:
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        return self.resources[logical_id].ref

    def outputs(self, template: Template) -> dict[str, str]:
        return {
            name: resolve(spec["Value"], self.ref, self._att) for name, spec in template.document.get("Outputs", {}).items()
        }

    def _att(self, logical_id: str, attribute: str) -> str:
        return self.resources[logical_id].attributes[attribute]


class TemplateApplier:
    def __init__(self, client: Callable[[str], Any], account: str, region: str, project_root: Path):
        self._client = client
        self._account = account
        self._region = region
        self._root = project_root
        self._resources: dict[str, Physical] = {}
        self._parameters: dict[str, str] = {}
        self._definitions: dict[str, str] = {}
        self._pipeline_definitions: dict[str, str] = {}
        self._mappings: list[MappingSpec] = []
        self._failure_destinations: dict[str, str] = {}
        self._conditions: dict[str, Any] = {}
        self._list_parameters: set[str] = set()
        self._template_mappings: dict[str, Any] = {}  # the template's Mappings section (Fn::FindInMap)

    def apply(self, template: Template, parameters: dict[str, str], functions: list[FunctionSpec]) -> AppliedStack:
        self._parameters = {**template.parameter_defaults(), **parameters}
        self._conditions = template.document.get("Conditions", {})
        self._template_mappings = template.document.get("Mappings", {})
        self._list_parameters = {
            name for name, spec in template.document.get("Parameters", {}).items() if spec.get("Type") == "CommaDelimitedList"
        }
        for function in functions:
            arn = f"arn:aws:lambda:{self._region}:{self._account}:function:{function.name}"
            self._resources[function.logical_id] = Physical(function.name, {"Arn": arn})
        skipped: dict[str, str] = {}
        created: dict[str, str] = {}
        declared = template.declared()
        for logical_id in template.creation_order(external={f.logical_id for f in functions}):
            spec = declared[logical_id]
            kind = spec["Type"]
            if kind in NOT_EMULATED:
                skipped[logical_id] = NOT_EMULATED[kind]
                self._resources[logical_id] = self._placeholder(logical_id, kind, spec.get("Properties", {}))
                continue
            create = self._creators().get(kind)
            if create is None:
                raise TemplateError(
                    f"{logical_id}: the embedded stack cannot create {kind}; "
                    "add it to mlrelay/local/applier.py or to NOT_EMULATED with a reason"
                )
            properties = self._resolve(spec.get("Properties", {}))
            if kind == "AWS::SageMaker::Pipeline":
                properties = self._with_pipeline_definition(logical_id, spec)
            self._resources[logical_id] = create(logical_id, properties)
            created[logical_id] = kind
        environments = self._create_functions(template, functions)
        iam = self.iam_model(template, functions)
        return AppliedStack(
            self._resources, created, environments, skipped, dict(self._definitions), dict(self._pipeline_definitions),
            {**self._parameters, **self._pseudo_parameters()},
            list(self._mappings),
            dict(self._failure_destinations),
            iam,
        )

    def iam_model(self, template: Template, functions: list[FunctionSpec], overrides: dict[str, str] | None = None) -> IamModel:
        """The template's roles and policies as applied, or as they would be with other parameter values
        (a test of what a stage with a KMS key or a Redshift secret is allowed)."""
        saved = self._parameters
        self._parameters = {**saved, **(overrides or {})}
        try:
            return template_model.build(
                template, self._resolve, [f.logical_id for f in functions], self._parameters["Stage"], self._account,
                lambda logical_id: self._resources[logical_id].attributes["Arn"], self._root, self._parameters,
            )
        finally:
            self._parameters = saved

    def _placeholder(self, logical_id: str, kind: str, props: dict[str, Any]) -> Physical:
        """What others may reference of a resource the emulator does not create."""
        if kind == "AWS::IAM::Role":
            name = self._resolve(props.get("RoleName", logical_id))
            return Physical(name, {"Arn": f"arn:aws:iam::{self._account}:role/{name}"})
        return Physical(logical_id)

    def _with_pipeline_definition(self, logical_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        # The definition file and its substitutions sit in Metadata until
        # packaging inlines them (see infra/resources.json); do the same here.
        metadata = spec["Metadata"]
        text = (self._root / metadata["mlrelay:DefinitionFile"]).read_text()
        for key, value in self._resolve(metadata.get("mlrelay:DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        self._pipeline_definitions[logical_id] = text
        properties = self._resolve(spec["Properties"])
        properties["PipelineDefinition"] = {"PipelineDefinitionBody": text}
        return properties

    # --- intrinsics ------------------------------------------------------

    def _resolve(self, node: Any) -> Any:
        return resolve(node, self._ref, self._get_att, self._condition, self._template_mappings)

    def _condition(self, name: str) -> bool:
        return evaluate_condition(self._conditions, name, self._ref)

    def _pseudo_parameters(self) -> dict[str, str]:
        return {"AWS::AccountId": self._account, "AWS::Region": self._region, "AWS::Partition": "aws"}

    def _ref(self, name: str) -> str:
        pseudo = self._pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            if self._list_parameters and name in self._list_parameters:  # a CommaDelimitedList is a list
                return [item for item in self._parameters[name].split(",") if item]  # type: ignore[return-value]
            return self._parameters[name]
        if name in self._resources:
            return self._resources[name].ref
        raise TemplateError(f"Ref to {name!r}, which is not created yet or not declared")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self._resources[logical_id].attributes[attribute]
        except KeyError as err:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not available locally") from err

    # --- resource types ----------------------------------------------------

    def _creators(self) -> dict[str, Callable[[str, dict[str, Any]], Physical]]:
        return {
            "AWS::S3::Bucket": self._bucket,
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::Events::Rule": self._rule,
            "AWS::Serverless::StateMachine": self._state_machine,
            "AWS::SageMaker::Pipeline": self._pipeline,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::Lambda::EventInvokeConfig": self._event_invoke_config,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::IAM::ManagedPolicy": self._managed_policy,
        }

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Physical:
        s3 = self._client("s3")
        name = props["BucketName"]
        request: dict[str, Any] = {"Bucket": name}
        if self._region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        s3.create_bucket(**request)
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
        if "BucketEncryption" in props:
            # CloudFormation and the S3 API name the same field differently.
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "LifecycleConfiguration" in props:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]}
            )
        return Physical(name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"})

    def _table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        dynamodb = self._client("dynamodb")
        name = props["TableName"]
        request = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for optional in ("GlobalSecondaryIndexes", "ProvisionedThroughput", "StreamSpecification"):
            if optional in props:
                request[optional] = props[optional]
        if "SSESpecification" in props:  # CloudFormation's SSEEnabled is the API's Enabled
            sse = dict(props["SSESpecification"])
            request["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled"), **sse}
        response = dynamodb.create_table(**request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        return Physical(name, {"Arn": response["TableDescription"]["TableArn"]})

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sqs = self._client("sqs")
        name = props["QueueName"]
        attributes = {
            key: json.dumps(value) if isinstance(value, dict) else str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in props.items()
            if key not in {"QueueName", "Tags"}
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Physical:
        attributes = {"KmsMasterKeyId": props["KmsMasterKeyId"]} if "KmsMasterKeyId" in props else {}
        arn = self._client("sns").create_topic(Name=props["TopicName"], Attributes=attributes)["TopicArn"]
        return Physical(arn, {"TopicName": props["TopicName"], "TopicArn": arn})

    def _rule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        events = self._client("events")
        name = props["Name"]
        request: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            request["EventPattern"] = json.dumps(props["EventPattern"])
        if "ScheduleExpression" in props:
            request["ScheduleExpression"] = props["ScheduleExpression"]
        if "Description" in props:
            request["Description"] = props["Description"]
        arn = events.put_rule(**request)["RuleArn"]
        if props.get("Targets"):
            events.put_targets(Rule=name, Targets=props["Targets"])
        return Physical(name, {"Arn": arn})

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> Physical:
        definition = (self._root / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        self._definitions[logical_id] = definition
        request: dict[str, Any] = {
            "name": props["Name"], "definition": definition, "type": props.get("Type", "STANDARD"),
            # the role SAM creates from the Policies: its executions' service integrations act with it
            "roleArn": f"arn:aws:iam::{self._account}:role/{template_model.state_machine_role_name(self._parameters['Stage'], logical_id)}",
        }
        if "Logging" in props:
            logging = props["Logging"]
            request["loggingConfiguration"] = {
                "level": logging["Level"], "includeExecutionData": logging["IncludeExecutionData"],
                "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                                 for d in logging.get("Destinations", [])],
            }
        arn = self._client("stepfunctions").create_state_machine(**request)["stateMachineArn"]
        return Physical(arn, {"Arn": arn, "Name": props["Name"]})

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        logs, name = self._client("logs"), props["LogGroupName"]
        logs.create_log_group(logGroupName=name, **({"kmsKeyId": props["KmsKeyId"]} if "KmsKeyId" in props else {}))
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return Physical(name, {"Arn": f"arn:aws:logs:{self._region}:{self._account}:log-group:{name}:*"})

    def _managed_policy(self, logical_id: str, props: dict[str, Any]) -> Physical:
        """Made in moto too: roles the stack makes at run time attach it, and IAM refuses a policy it does not hold.
        mlrelay/local/iam evaluates it."""
        iam, name = self._client("iam"), props["ManagedPolicyName"]
        arn = template_model.managed_policy_arn(self._account, name)
        try:
            iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(props["PolicyDocument"]), Description=props.get("Description", ""))
        except iam.exceptions.EntityAlreadyExistsException:
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(props["PolicyDocument"]), SetAsDefault=True)
        return Physical(arn, {"PolicyArn": arn})

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> Physical:
        for url in props["Queues"]:
            self._client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        return Physical(logical_id)

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> Physical:
        # Started as a poller by the stack once the functions exist (mlrelay/local/sqs_poller.py).
        queue_arn = props["EventSourceArn"]
        queue_url = next(p.ref for p in self._resources.values() if p.attributes.get("Arn") == queue_arn)
        self._mappings.append(
            MappingSpec(
                queue_url=queue_url, queue_arn=queue_arn, function_name=props["FunctionName"],
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            )
        )
        return Physical(logical_id)

    def _event_invoke_config(self, logical_id: str, props: dict[str, Any]) -> Physical:
        # Asynchronous invocations that fail after their retries go to this destination.
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            queue_url = next(p.ref for p in self._resources.values() if p.attributes.get("Arn") == destination)
            self._failure_destinations[props["FunctionName"]] = queue_url
        return Physical(logical_id)

    def _pipeline(self, logical_id: str, props: dict[str, Any]) -> Physical:
        sagemaker = self._client("sagemaker")
        arn = sagemaker.create_pipeline(
            PipelineName=props["PipelineName"],
            PipelineDefinition=props["PipelineDefinition"]["PipelineDefinitionBody"],
            PipelineDescription=props.get("PipelineDescription", ""),
            RoleArn=props["RoleArn"],
        )["PipelineArn"]
        return Physical(props["PipelineName"], {"Arn": arn, "PipelineName": props["PipelineName"]})

    # --- the Chalice functions ---------------------------------------------

    def _create_functions(self, template: Template, functions: list[FunctionSpec]) -> dict[str, dict[str, str]]:
        merge = template.merge_only()
        environments = {}
        for function in functions:
            added = merge.get(function.logical_id, {}).get("Properties", {}).get("Environment", {}).get("Variables", {})
            environment = {**function.environment, **self._resolve(added)}
            self._client("lambda").create_function(
                FunctionName=function.name,
                Runtime="python3.11",
                Role=self._role_arn(),
                Handler=function.handler,
                Code={"ZipFile": PLACEHOLDER_CODE},
                Timeout=function.timeout_seconds,
                MemorySize=function.memory_mb,
                Environment={"Variables": environment},
            )
            if function.reserved_concurrency is not None:
                self._client("lambda").put_function_concurrency(
                    FunctionName=function.name, ReservedConcurrentExecutions=function.reserved_concurrency,
                )
            environments[function.name] = environment
        return environments

    def _role_arn(self) -> str:
        role_name = "mlrelay-local-execution"
        iam = self._client("iam")
        try:
            return iam.get_role(RoleName=role_name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            trust = {"Version": "2012-10-17", "Statement": []}
            return iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _placeholder_zip() -> bytes:
    # moto stores code but never runs it here: the local router runs app.py. Fixed file times make it the same
    # bytes every time, so `mlrelay doctor` can check each function carries it.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo("README.txt", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(entry, "Runs in process from app.py; see mlrelay/local/lambda_runtime.py\n")
    return buffer.getvalue()


PLACEHOLDER_CODE = _placeholder_zip()


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's lifecycle rule as the S3 API takes it (Id/ID, Prefix/Filter, numbers as numbers)."""
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return api
