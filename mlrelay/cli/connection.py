"""Which stack a command talks to, and its clients.

The rule: `--stage STAGE` is the deployed stack `mlrelay-STAGE`, found through CloudFormation with the
standard AWS credential chain (`--profile`, `--region`); without it, the local stack `mlrelay local up`
runs. Both give the same StackInfo, so every command has one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlrelay.cli.output import fail
from mlrelay.local.state_file import NoLocalStackError, StackInfo, read_state

# Every function's deployed name (infra/resources.json sets FunctionName to mlrelay-${Stage}-<name>).
FUNCTIONS = ("alerts", "check_daily_freshness", "decide_model", "inference_step", "on_config_dropped", "on_inference_schedule",
             "on_pipeline_status", "resume_run", "training_step")


@dataclass
class Target:
    stage: str | None = None
    profile: str | None = None
    region: str | None = None

    @property
    def cli_flags(self) -> str:
        """How to name this target again on the command line (alerts and hints print it)."""
        return f" --stage {self.stage}" if self.stage else ""


target = Target()  # set by the root command's options (mlrelay/cli/main.py)


def stack_name(stage: str) -> str:
    return f"mlrelay-{stage}"


def connect() -> tuple[StackInfo, Callable[[str], Any]]:
    if target.stage:
        return _deployed(target)
    try:
        info = read_state()
    except NoLocalStackError as err:
        fail(f"{err}; or name a deployed stack with --stage STAGE")
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region)
    return info, lambda service: session.client(service, endpoint_url=info.endpoint)


def _deployed(chosen: Target) -> tuple[StackInfo, Callable[[str], Any]]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, ProfileNotFound

    name = stack_name(str(chosen.stage))
    try:
        session = boto3.session.Session(profile_name=chosen.profile, region_name=chosen.region)
        stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ProfileNotFound:
        fail(f"no AWS profile named {chosen.profile!r}: see `aws configure list-profiles`")
    except NoRegionError:
        fail("no AWS region: pass --region or set AWS_REGION")
    except NoCredentialsError:
        fail("no AWS credentials found: set AWS_PROFILE (or pass --profile), or run `aws configure` / `aws sso login`")
    except ClientError as err:
        if "does not exist" in str(err):
            fail(f"no stack {name} in {session.region_name}: deploy it with `make deploy STAGE={chosen.stage}`, "
                 "or check --region and --profile")
        fail(f"cannot read stack {name}: {err}")
    except BotoCoreError as err:
        fail(f"cannot reach CloudFormation for {name}: {err}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    info = StackInfo(
        endpoint="", stage=str(chosen.stage), region=session.region_name, outputs=outputs,
        functions={function: f"{name}-{function}" for function in FUNCTIONS},
        state_machines={f"{name}StateMachine": outputs[f"{name}StateMachineArn"]
                        for name in ("Training", "Inference", "Segments") if f"{name}StateMachineArn" in outputs},
    )
    return info, session.client
