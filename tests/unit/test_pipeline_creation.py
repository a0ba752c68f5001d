"""A model's pipeline copy is created once; a role IAM has not yet spread to SageMaker is waited for, not failed on."""

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.aws.errors import AwsError
from chalicelib.aws.sagemaker import NEW_ROLE_WAITS, Pipelines

ROLE = "arn:aws:iam::123456789012:role/mlrelay-test-models/mlrelay-test-pt"
NOT_YET = "Could not assume role arn:aws:iam::123456789012:role/mlrelay-test-models/mlrelay-test-pt"
REQUEST = {"PipelineName": "p-1", "PipelineDefinition": "{}", "RoleArn": ROLE, "PipelineDescription": "d", "ClientRequestToken": ANY}


def pipelines(*answers):
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(sagemaker)
    for answer in answers:
        if answer is None:
            stubber.add_response("create_pipeline", {"PipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p-1"}, REQUEST)
        else:
            stubber.add_client_error("create_pipeline", *answer, expected_params=REQUEST)
    stubber.activate()
    slept: list[float] = []
    return Pipelines(sagemaker, sleep=slept.append), stubber, slept


def test_a_role_not_yet_assumable_is_waited_for():
    made, stubber, slept = pipelines(("ValidationException", NOT_YET), ("ValidationException", NOT_YET), None)

    assert made.ensure("p-1", {}, ROLE, "d") is True
    assert slept == list(NEW_ROLE_WAITS[:2])
    stubber.assert_no_pending_responses()


def test_a_role_still_not_assumable_after_the_waits_fails_naming_it():
    made, _, slept = pipelines(*[("ValidationException", NOT_YET)] * (len(NEW_ROLE_WAITS) + 1))

    with pytest.raises(AwsError, match="cannot create pipeline p-1: ValidationException .Could not assume role"):
        made.ensure("p-1", {}, ROLE, "d")
    assert slept == list(NEW_ROLE_WAITS)


def test_an_existing_copy_is_kept_and_other_refusals_are_not_retried():
    made, _, slept = pipelines(("ResourceInUse", "Pipeline p-1 already exists"))
    assert made.ensure("p-1", {}, ROLE, "d") is False

    made, _, slept = pipelines(("ValidationException", "PipelineDefinition is not valid"))
    with pytest.raises(AwsError, match="not valid"):
        made.ensure("p-1", {}, ROLE, "d")
    assert slept == []
