"""Training code that writes where its model's runs go, then over another model's approved artifact."""

import argparse

import boto3


def model_fn(model_dir):
    return None


def _put(uri, body):
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--own", required=True)
    parser.add_argument("--target", required=True)
    args, _ = parser.parse_known_args()
    _put(args.own, b"this model's own output")
    _put(args.target, b"not this model")
