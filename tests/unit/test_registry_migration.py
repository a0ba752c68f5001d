"""Versions a stage registered before its package groups were its own are moved there, in order, once."""

import boto3
import pytest
from moto import mock_aws

from chalicelib.aws.model_versions import ModelVersions, VersionRecord
from mlrelay.registry_migration import MigrationError, group_of, migrate, old_group_refusals

TABLE = "mlrelay-prod-models"
CONTAINER = {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
             "ModelDataUrl": "s3://artifacts/runs/m/r1/model/job/output/model.tar.gz"}


@pytest.fixture
def aws():
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "model_name", "AttributeType": "S"},
                                  {"AttributeName": "version_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "model_name", "KeyType": "HASH"}, {"AttributeName": "version_key", "KeyType": "RANGE"}])
        yield ModelVersions(TABLE, dynamodb), boto3.client("sagemaker", region_name="us-east-1")


def registered_the_old_way(versions, sagemaker, model="packaging-type", statuses=("Approved", "Rejected"), group=None):
    group = group or model  # the old way: the group was named after the model alone
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    for number, status in enumerate(statuses, start=1):
        arn = sagemaker.create_model_package(
            ModelPackageGroupName=group, ModelApprovalStatus=status, ModelPackageDescription=f"v{number}",
            InferenceSpecification={"Containers": [CONTAINER], "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["application/jsonlines"]},
            CustomerMetadataProperties={"run_id": f"r{number}"})["ModelPackageArn"]
        record = VersionRecord(model, number, status, f"r{number}", arn, {}, {}, "2026-11-01T00:00:00+00:00", {})
        versions.put(record)
        if status == "Approved":
            versions.set_pointer(model, record, record.created_at)


def test_old_groups_are_refused_then_moved_in_order_with_the_pointer_and_a_second_run_moves_nothing(aws):
    versions, sagemaker = aws
    registered_the_old_way(versions, sagemaker)

    refusals = old_group_refusals(versions, "prod")
    said = []
    moved = migrate(versions, sagemaker, "prod", said.append)

    assert len(refusals) == 1 and "2 model versions registered in groups outside mlrelay-prod-* (packaging-type (2))" in refusals[0]
    assert "`mlrelay --stage prod models migrate-registry`" in refusals[0]
    assert moved == 2 and len(said) == 2
    moved_versions = {v.version: v for v in versions.versions("packaging-type")}
    assert {n: group_of(v.model_package_arn) for n, v in moved_versions.items()} == {
        1: "mlrelay-prod-packaging-type", 2: "mlrelay-prod-packaging-type"}
    assert [v.model_package_arn.rsplit("/", 1)[-1] for v in moved_versions.values()] == ["1", "2"]
    assert versions.approved("packaging-type").model_package_arn == moved_versions[1].model_package_arn
    copy = sagemaker.describe_model_package(ModelPackageName=moved_versions[2].model_package_arn)
    assert (copy["ModelApprovalStatus"], copy["ModelPackageDescription"]) == ("Rejected", "v2")
    assert copy["CustomerMetadataProperties"] == {"run_id": "r2"}
    assert copy["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == CONTAINER["ModelDataUrl"]
    assert old_group_refusals(versions, "prod") == [] and migrate(versions, sagemaker, "prod", said.append) == 0


def test_a_stage_group_whose_numbering_would_not_continue_the_tables_is_refused(aws):
    versions, sagemaker = aws
    registered_the_old_way(versions, sagemaker)
    sagemaker.create_model_package_group(ModelPackageGroupName="mlrelay-prod-packaging-type")
    sagemaker.create_model_package(ModelPackageGroupName="mlrelay-prod-packaging-type", ModelApprovalStatus="Approved")

    with pytest.raises(MigrationError, match="holds 1 versions, so packaging-type v1 would be registered as v2"):
        migrate(versions, sagemaker, "prod", print)


def test_versions_in_the_stages_own_groups_are_not_refused_but_another_stages_are(aws):
    versions, sagemaker = aws
    registered_the_old_way(versions, sagemaker, group="mlrelay-prod-packaging-type")

    assert old_group_refusals(versions, "prod") == []
    assert old_group_refusals(versions, "dev") != []
