"""SageMaker real-time endpoints: the models, configs and endpoints a deployment makes, and its error alarm.

Every create is idempotent by name (a retried step finds what its first attempt made); SageMaker's "in progress"
refusals become EndpointBusyError, which the deploy workflow retries with back-off.
"""

from __future__ import annotations

from typing import Any

from chalicelib.aws.clients import client
from chalicelib.aws.errors import AwsError, translated
from chalicelib.shared.endpoint_states import EndpointBusyError, EndpointState


class Endpoints:
    def __init__(self, sagemaker_client: Any = None, cloudwatch_client: Any = None):
        self._client = sagemaker_client or client("sagemaker")
        self._cloudwatch = cloudwatch_client  # made on first use: only a deployment puts an alarm

    def describe(self, name: str) -> EndpointState | None:
        try:
            with translated(f"cannot describe endpoint {name}"):
                found = self._client.describe_endpoint(EndpointName=name)
        except AwsError as err:  # SageMaker answers a missing endpoint so: ValidationException "Could not find endpoint"
            if err.code == "ValidationException" and "Could not find endpoint" in str(err):
                return None
            raise
        return EndpointState(name, found["EndpointStatus"], found.get("EndpointConfigName", ""), found.get("FailureReason", ""))

    def ensure_model(self, name: str, container: dict[str, Any], role_arn: str, tags: dict[str, str]) -> None:
        self._create(f"cannot create SageMaker model {name}", self._client.create_model, ModelName=name,
                     PrimaryContainer=container, ExecutionRoleArn=role_arn, Tags=_tags(tags))

    def ensure_config(self, name: str, variant: dict[str, Any], tags: dict[str, str]) -> None:
        self._create(f"cannot create endpoint config {name}", self._client.create_endpoint_config, EndpointConfigName=name,
                     ProductionVariants=[variant], Tags=_tags(tags))

    def create(self, name: str, config_name: str, tags: dict[str, str]) -> None:
        self._create(f"cannot create endpoint {name}", self._client.create_endpoint, EndpointName=name,
                     EndpointConfigName=config_name, Tags=_tags(tags))

    def update(self, name: str, config_name: str, deployment_config: dict[str, Any]) -> None:
        try:
            with translated(f"cannot update endpoint {name} to {config_name}"):
                self._client.update_endpoint(EndpointName=name, EndpointConfigName=config_name,
                                             DeploymentConfig=deployment_config)
        except AwsError as err:  # SageMaker's words: Cannot update in-progress endpoint "<arn>".
            if "in-progress" in str(err) or "in progress" in str(err):
                raise EndpointBusyError(f"endpoint {name} is being changed: {err}") from err
            raise

    def delete(self, name: str) -> None:
        with translated(f"cannot delete endpoint {name}"):
            self._client.delete_endpoint(EndpointName=name)

    def ensure_error_alarm(self, alarm_name: str, endpoint: str, variant: str) -> None:
        """The alarm SageMaker's auto-rollback watches: any 5xx answer from the model within a minute."""
        if self._cloudwatch is None:
            self._cloudwatch = client("cloudwatch")
        with translated(f"cannot put the alarm {alarm_name}"):
            self._cloudwatch.put_metric_alarm(
                AlarmName=alarm_name, AlarmDescription=f"{endpoint} answered with model errors: a deployment rolls back",
                Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors", Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
                Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
            )

    def _create(self, action: str, call: Any, **arguments: Any) -> None:
        try:
            with translated(action):
                call(**arguments)
        except AwsError as err:  # SageMaker's words: Cannot create already existing model "<arn>". (a ValidationException)
            if "already existing" in str(err) or "already exists" in str(err):
                return  # made by an earlier attempt of this step, or by a sibling segment's deployment
            raise


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
