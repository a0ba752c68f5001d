"""The tiny scikit-learn models the endpoint tests and benchmarks/endpoint_latency.py serve, built with the sklearn
1.2-1 image's own Python (so the model loads in the endpoint's environment), and the roles and resources around them."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from mlrelay.local.image_libraries import libraries_for
from mlrelay.local.state_file import ACCOUNT_ID
from mlrelay.local.user_env import image_environment

CODE = Path(__file__).resolve().parent / "code" / "endpoint_model"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROWS = "0.5,-1.2,0.3,2.0\n-0.7,0.1,1.5,-0.4\n1.1,0.9,-0.3,0.2\n"
SAGEMAKER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def image_python(log: Path) -> str:
    return image_environment(libraries_for(IMAGE), log)[0]


def fit(python: str, folder: Path, flip: bool = False) -> Path:
    """A model folder holding model.joblib."""
    subprocess.run([python, str(CODE / "fit.py"), str(folder), *(["--flip"] if flip else [])], check=True)
    return folder


def direct(python: str, model_dir: Path, rows: str) -> str:
    """What the serving functions answer for `rows`, called in one process."""
    return subprocess.run([python, str(CODE / "direct.py"), str(model_dir)], input=rows, capture_output=True, text=True,
                          check=True, cwd=CODE).stdout


def tar_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as packed:
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".py", ".joblib")):
            packed.add(path, arcname=path.name)
    return buffer.getvalue()


def model_role(iam: Any, name: str, bucket: str, watch_alarms: bool = True) -> str:
    """A SageMaker execution role that may read `bucket` and, with `watch_alarms`, read alarms (SageMaker reads an
    endpoint's auto-rollback alarms with it), and nothing else."""
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))
    except iam.exceptions.EntityAlreadyExistsException:
        return arn
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
                  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}]
    if watch_alarms:
        alarms = f"arn:aws:cloudwatch:*:{ACCOUNT_ID}:alarm:*"
        statements.append({"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": alarms})
    iam.put_role_policy(RoleName=name, PolicyName="read-models", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": statements}))
    return arn


def create_model(sagemaker: Any, name: str, role: str, model_data: str, code: str, program: str = "serve.py",
                 multi_model: bool = False) -> None:
    container = {"Image": IMAGE, "ModelDataUrl": model_data,
                 "Environment": {"SAGEMAKER_PROGRAM": program, "SAGEMAKER_SUBMIT_DIRECTORY": code}}
    if multi_model:
        container["Mode"] = "MultiModel"
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer=container)


def create_config(sagemaker: Any, name: str, model: str, serverless: bool = False) -> None:
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": model, "InitialVariantWeight": 1.0}
    if serverless:
        variant["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    else:
        variant |= {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
