"""A resource's ARN from its CloudFormation type and physical name, in any partition: one table for the IAM
policies parliament reads, the embedded stack's IAM model and `mlrelay doctor`."""

from __future__ import annotations

ARN_SHAPES = {
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{name}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{name}",
    "AWS::IAM::ManagedPolicy": "arn:{partition}:iam::{account}:policy/{name}",
    "AWS::Serverless::StateMachine": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    "AWS::SNS::Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "AWS::Serverless::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "AWS::SageMaker::Pipeline": "arn:{partition}:sagemaker:{region}:{account}:pipeline/{name}",
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}:*",
    "AWS::Events::Rule": "arn:{partition}:events:{region}:{account}:rule/{name}",
}
# The property that names a resource of each type (what its ARN is built from)
NAME_PROPERTIES = {
    "AWS::Events::Rule": "Name", "AWS::Serverless::StateMachine": "Name", "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName", "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName", "AWS::SageMaker::Pipeline": "PipelineName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}
# what CloudFormation's Ref gives for these types
REF_IS_ARN = {"AWS::Serverless::StateMachine", "AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"}


def arn_of(kind: str, name: str, *, account: str, region: str, partition: str = "aws") -> str | None:
    """The ARN of a `kind` resource named `name`; None for a type the table does not know."""
    shape = ARN_SHAPES.get(kind)
    return shape.format(partition=partition, region=region, account=account, name=name) if shape else None
