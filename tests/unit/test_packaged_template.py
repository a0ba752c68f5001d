"""The template `make package` writes, proven offline: cfn-lint, IAM, substitutions, the zip."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app import app
from mlrelay.iam_check import WILDCARD_EXCEPTIONS, statements, unexcused, wildcards
from tests.conftest import ROOT
from tests.state_machines import json_nulls

SUBSTITUTION = re.compile(r"\$\{(\w+)\}")
MAX_ZIP_BYTES = 10 * 1024 * 1024
HEAVY = ("sagemaker/", "pandas/", "numpy/", "moto/", "duckdb/", "sklearn/")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    from mlrelay.packaging import package

    return package("prod", tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def template(packaged):
    return json.loads(packaged.template.read_text())


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_finds_no_errors(packaged):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(packaged.template)], capture_output=True, text=True
    )

    assert result.returncode & 2 == 0, result.stdout  # bit 2: errors (warnings and notes are printed, not fatal)


def test_every_substitution_in_the_state_machines_is_provided(template):
    machines = resources(template, "AWS::Serverless::StateMachine")

    assert len(machines) == len(list((ROOT / "statemachines").glob("*.asl.json")))
    for name, machine in machines.items():
        wanted = set(SUBSTITUTION.findall(json.dumps(machine["Properties"]["Definition"])))
        assert wanted and wanted <= set(machine["Properties"]["DefinitionSubstitutions"]), name


def test_every_handler_has_a_function_with_a_role_of_its_own(template):
    functions = resources(template, "AWS::Serverless::Function")
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}

    names = {f["Properties"]["FunctionName"]["Fn::Sub"].replace("${Stage}", "prod"): f for f in functions.values()}

    assert sorted(names) == sorted(f"mlrelay-prod-{f.name}" for f in app.pure_lambda_functions)
    assert len(roles) == len(functions)
    for name, function in names.items():
        role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        # its own policy, not a shared one; statements that only some stages need are policies of their own
        # under their condition (checkov skips a policy with a condition inside its statement list)
        policy, *conditional = role["Properties"]["Policies"]
        assert policy["PolicyName"] == name.replace("mlrelay-prod-", "mlrelay-")
        assert all(set(c) == {"Fn::If"} and c["Fn::If"][1]["PolicyName"].startswith(policy["PolicyName"]) for c in conditional)


def test_iam_has_no_wildcard_outside_the_exception_list(template):
    excused = [s.get("Sid") for _, s in statements(template) if wildcards(s)]

    assert unexcused(template) == []
    assert sorted(set(excused)) == sorted(WILDCARD_EXCEPTIONS)  # the check sees them, and the list has no stale entry


def test_the_wildcard_check_catches_what_it_should():
    role = {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
        {"Sid": "A", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
        {"Sid": "B", "Action": ["sqs:SendMessage"], "Resource": "*"},
        {"Sid": "C", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:1:q"},
    ]}}]}}

    assert [sid for _, sid, _ in unexcused({"Resources": {"R": role}})] == ["A", "B"]


def test_the_lambda_zip_is_small_and_carries_no_heavy_library(packaged):
    names = zipfile.ZipFile(packaged.zip_file).namelist()

    assert packaged.zip_file.stat().st_size < MAX_ZIP_BYTES
    assert "app.py" in names and any(n.startswith("chalicelib/") for n in names)
    assert "chalicelib/shared/images.json" in names  # the framework images, read without the SageMaker SDK
    assert not [n for n in names if n.startswith(HEAVY)]


def test_deploy_parameters_come_from_the_stages_file_and_the_zip_from_its_upload(template):
    import base64
    import hashlib

    from mlrelay.deploy import DeployError, stack_parameters, with_uploaded_code

    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters("prod")}
    shipped = with_uploaded_code(json.loads(json.dumps(template)), "s3://deploy-bucket/deploy/abc.zip", b"the zip")

    assert parameters["Stage"] == "prod" and set(parameters) <= set(template["Parameters"])
    assert {f["Properties"]["CodeUri"] for f in resources(shipped, "AWS::Serverless::Function").values()} == {
        "s3://deploy-bucket/deploy/abc.zip"
    }
    # what Lambda reports as each function's CodeSha256, for `mlrelay doctor`
    assert shipped["Metadata"]["mlrelay:CodeSha256"] == base64.b64encode(hashlib.sha256(b"the zip").digest()).decode()
    with pytest.raises(DeployError, match="infra/parameters/nowhere.json is missing"):
        stack_parameters("nowhere")


def test_every_module_in_the_zip_ships_with_bytecode_that_needs_no_source_times(packaged):
    archive = zipfile.ZipFile(packaged.zip_file)
    names = set(archive.namelist())
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"

    modules = [n for n in names if n.endswith(".py")]
    missing = [m for m in modules if _pyc_of(m, tag) not in names]
    assert modules and not missing, missing[:5]
    header = archive.read(_pyc_of("app.py", tag))[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, not checked against the source


def _pyc_of(module: str, tag: str) -> str:
    folder, _, name = module.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{tag}.pyc"


def test_every_function_has_the_reserved_concurrency_its_stage_sets(packaged):
    template = json.loads(packaged.template.read_text())
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["lambda_functions"]
    functions = {r["Properties"]["FunctionName"]["Fn::Sub"].rsplit("-", 1)[-1]: r["Properties"]
                 for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"}

    assert {name: props.get("ReservedConcurrentExecutions") for name, props in functions.items()} == {
        name: settings["reserved_concurrency"] for name, settings in stage.items()}
    # AWS counts a receive the function was throttled on toward maxReceiveCount: the alerts consumer must be able to
    # run as many as its queue mappings may start together, or alerts move to the dead-letter queue unsent
    mappings = [r["Properties"] for r in resources(template, "AWS::Lambda::EventSourceMapping").values()]
    assert functions["alerts"]["ReservedConcurrentExecutions"] >= sum(m["ScalingConfig"]["MaximumConcurrency"] for m in mappings)
    for queue in ("FailuresQueue", "NotificationsQueue"):  # AWS advises six times the function's timeout
        assert template["Resources"][queue]["Properties"]["VisibilityTimeout"] >= 6 * functions["alerts"]["Timeout"]


def test_no_role_hides_a_condition_inside_its_statement_list(template):
    # checkov skips the IAM checks of a policy whose Statement list holds an Fn::If: a statement only some
    # stages need is a policy of its own under the condition instead
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            document = (policy["Fn::If"][1] if "Fn::If" in policy else policy)["PolicyDocument"]
            assert not [s for s in document["Statement"] if "Fn::If" in s], name
    # the models' policy is their boundary too, so it cannot be split by stage: a statement's resource varies instead
    for name, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
        assert not [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Fn::If" in s], name


def test_every_rule_target_has_a_dead_letter_queue_the_rule_may_send_to_and_a_retry_policy(template):
    rules = resources(template, "AWS::Events::Rule")
    allowed = template["Resources"]["EventsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    senders = {arn["Fn::GetAtt"][0] for arn in allowed["Condition"]["ArnEquals"]["aws:SourceArn"]}

    for name, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}, name
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400, name
    assert senders == set(rules)


def test_the_data_outlives_the_stack_and_logs_are_kept_as_the_stage_says(template):
    # RetainExceptOnCreate: a failed first create leaves nothing behind that would block creating it again
    kept = {n for n, r in template["Resources"].items()
            if r.get("DeletionPolicy") == "RetainExceptOnCreate" and r.get("UpdateReplacePolicy") == "Retain"}
    functions = resources(template, "AWS::Serverless::Function")
    groups = {r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"] for r in resources(template, "AWS::Logs::LogGroup").values()}

    assert set(resources(template, "AWS::DynamoDB::Table")) | set(resources(template, "AWS::S3::Bucket")) <= kept
    for name in functions:
        assert groups[f"/aws/lambda/${{{name}}}"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    rules = template["Resources"]["ConfigBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {r.get("Prefix") for r in rules if "NoncurrentVersionExpiration" in r} == {"configs/", "data/"}  # never runs/


def test_every_state_machine_has_a_failed_executions_alarm(template):
    alarmed = {a["Properties"]["Dimensions"][0]["Value"]["Ref"] for a in resources(template, "AWS::CloudWatch::Alarm").values()
               if a["Properties"]["MetricName"] == "ExecutionsFailed"}

    assert alarmed == set(resources(template, "AWS::Serverless::StateMachine"))


def test_no_json_null_and_no_arn_outside_the_stacks_partition(packaged, template):
    text = packaged.template.read_text()

    definitions = [json.loads(r["Properties"]["Definition"]) if isinstance(r["Properties"].get("Definition"), str)
                   else r["Properties"]["Definition"] for r in resources(template, "AWS::Serverless::StateMachine").values()]
    assert definitions and json_nulls(template) == 0 and all(json_nulls(d) == 0 for d in definitions)
    assert "arn:aws:" not in text  # every ARN takes ${AWS::Partition}


def test_every_stage_owned_name_and_the_registry_rule_are_the_stages(template):
    named = {"TableName", "QueueName", "BucketName", "FunctionName", "Name", "TopicName", "PipelineName", "AlarmName", "RoleName"}
    for logical_id, resource in template["Resources"].items():
        for key, value in resource.get("Properties", {}).items():
            if key in named and isinstance(value, dict) and "Fn::Sub" in value:
                assert value["Fn::Sub"].startswith("mlrelay-${Stage}-"), (logical_id, key)
    pattern = template["Resources"]["ModelPackageStateRule"]["Properties"]["EventPattern"]["detail"]
    assert pattern["ModelPackageGroupName"] == [{"prefix": {"Fn::Sub": "mlrelay-${Stage}-"}}]
    registry_arns = [json.dumps(r) for _, statement in statements(template) for r in _listed(statement.get("Resource", []))
                     if ":model-package" in json.dumps(r)]
    assert registry_arns and all(re.search(r":model-package(-group)?/mlrelay-\$\{Stage\}-\*", r) for r in registry_arns), registry_arns


def _listed(value):
    return value if isinstance(value, list) else [value]


def test_every_policy_fits_iams_size_quotas(packaged):
    # IAM refuses, at deploy, a managed policy over 6,144 characters and a role whose inline policies together pass
    # 10,240 (whitespace not counted); the embedded stack holds policies of any size, so this test is where it is met
    from mlrelay.iam_policies import resolved_policies

    parameters = {k: str(v) for k, v in json.loads((ROOT / "infra" / "parameters" / "prod.json").read_text()).items()}
    sizes: dict[str, int] = {}
    for name, document in resolved_policies(packaged.template, parameters).items():
        owner = name.split("/", 1)[0]
        sizes[owner] = sizes.get(owner, 0) + len(re.sub(r"\s", "", json.dumps(document)))
    managed = {name for name, r in json.loads(packaged.template.read_text())["Resources"].items() if r["Type"] == "AWS::IAM::ManagedPolicy"}

    assert managed == {"ModelJobPolicy"}
    assert {owner: size for owner, size in sizes.items() if size > (6_144 if owner in managed else 10_240)} == {}
