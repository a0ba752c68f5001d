"""The embedded stack's IAM decisions, without a stack: evaluation, the request's resources, the census."""

from __future__ import annotations

import pytest

from mlrelay.local.iam.authorizer import AccessDeniedError, Authorizer
from mlrelay.local.iam.policies import Request, Statement, UnsupportedPolicyError, conditions_hold, evaluate
from mlrelay.local.iam.principals import IamModel, ManagedPolicy, Role, RuntimeRole, TrustError, role_statements
from mlrelay.local.iam.resources import Lookups, arn_formats, calls

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlrelay-dev-StepRole"


def request(action: str, resource: str, **context: str) -> Request:
    return Request(f"arn:aws:sts::{ACCOUNT}:assumed-role/mlrelay-dev-StepRole/fn", ROLE_ARN, ACCOUNT, action, resource, context)


def allow(action: str | list[str], resource: str | list[str], **extra: object) -> Statement:
    return Statement("role/policy/sid", {"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def test_an_action_on_a_resource_no_statement_names_is_denied_with_awss_reason():
    decision = evaluate(request("s3:GetObject", "arn:aws:s3:::other/key"), [allow("s3:GetObject", "arn:aws:s3:::bucket/*")])
    assert not decision.allowed
    assert decision.denied_because == "no identity-based policy allows the s3:GetObject action"


def test_wildcards_match_actions_case_insensitively_and_resources_exactly():
    statements = [allow("S3:Get*", "arn:aws:s3:::bucket/runs/*")]
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::bucket/runs/r1/model.tar.gz"), statements).allowed
    assert not evaluate(request("s3:GetObject", "arn:aws:s3:::bucket/configs/a.json"), statements).allowed
    assert not evaluate(request("s3:GetObject", "arn:aws:s3:::Bucket/runs/a"), statements).allowed


def test_an_explicit_deny_wins_over_any_allow():
    statements = [allow("s3:*", "*"), Statement("deny", {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"})]
    decision = evaluate(request("s3:PutObject", "arn:aws:s3:::b/k"), statements)
    assert not decision.allowed and "explicit deny" in decision.denied_because


def test_a_statement_scoped_to_a_state_machine_does_not_allow_an_action_that_takes_no_resource():
    # SendTaskSuccess is authorized against "*": a statement naming state machines never matches it.
    statements = [allow("states:SendTaskSuccess", f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:training")]
    (call,) = calls("states", "SendTaskSuccess", {"taskToken": "t"}, "us-east-1", ACCOUNT)
    assert call.resource == "*"
    assert not evaluate(request(call.action, call.resource), statements).allowed


def test_conditions_use_the_request_context_and_policy_variables():
    owner = Statement(
        "own",
        {
            "Effect": "Allow",
            "Action": "redshift-data:DescribeStatement",
            "Resource": "*",
            "Condition": {"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
        },
    )
    mine = request(
        "redshift-data:DescribeStatement", "*", **{"aws:userid": "AROA1:fn", "redshift-data:statement-owner-iam-userid": "AROA1:fn"}
    )
    theirs = request(
        "redshift-data:DescribeStatement", "*", **{"aws:userid": "AROA1:fn", "redshift-data:statement-owner-iam-userid": "AROA2:x"}
    )
    assert evaluate(mine, [owner]).allowed
    assert not evaluate(theirs, [owner]).allowed


@pytest.mark.parametrize(
    ("conditions", "context", "holds"),
    [
        ({"StringLike": {"s3:prefix": "runs/*"}}, {"s3:prefix": "runs/r1/"}, True),
        ({"StringLike": {"s3:prefix": "runs/*"}}, {"s3:prefix": "configs/"}, False),
        ({"StringLike": {"s3:prefix": "runs/*"}}, {}, False),  # a missing key does not match
        ({"StringNotEquals": {"aws:SourceAccount": "1"}}, {}, True),  # ... unless the operator is negated
        ({"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}, {}, True),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/mlrelay-*"}},
            {"aws:SourceArn": "arn:aws:events:us-east-1:1:rule/mlrelay-a"},
            True,
        ),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        ({"Null": {"kms:ViaService": "true"}}, {}, True),
        ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["notify#*"]}}, {"dynamodb:LeadingKeys": ["notify#a", "run#b"]}, False),
        ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["notify#*"]}}, {"dynamodb:LeadingKeys": ["notify#a"]}, True),
    ],
)
def test_condition_operators_as_aws_documents_them(conditions, context, holds):
    assert conditions_hold(conditions, context) is holds


def test_an_operator_the_evaluator_does_not_know_is_refused_by_name_not_guessed():
    with pytest.raises(UnsupportedPolicyError, match="DateLessThan"):
        conditions_hold({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2026"})


def test_a_key_policy_that_only_delegates_to_iam_needs_an_identity_policy_too():
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    delegating = [
        Statement("key/root", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"})
    ]
    without_iam = evaluate(request("kms:Decrypt", key), [], key_policy=delegating)
    with_iam = evaluate(request("kms:Decrypt", key), [allow("kms:Decrypt", key)], key_policy=delegating)
    assert not without_iam.allowed and with_iam.allowed
    assert not evaluate(request("kms:Decrypt", key), [allow("kms:Decrypt", key)], key_policy=[]).allowed


def test_a_resource_policy_allows_the_principal_it_names():
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
    policy = [Statement("queue", {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "sqs:SendMessage", "Resource": queue})]
    assert evaluate(request("sqs:SendMessage", queue), [], resource_policy=policy).allowed


@pytest.mark.parametrize(
    ("signing", "operation", "params", "expected"),
    [
        ("dynamodb", "PutItem", {"TableName": "runs"}, [("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/runs")]),
        (
            "sqs",
            "SendMessage",
            {"QueueUrl": f"http://localhost/{ACCOUNT}/failures"},
            [("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures")],
        ),
        (
            "states",
            "StartExecution",
            {"stateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:t"},
            [("states:StartExecution", f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:t")],
        ),
        (
            "sagemaker",
            "DescribePipelineExecution",
            {"PipelineExecutionArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/p/execution/e1"},
            [("sagemaker:DescribePipelineExecution", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/p/execution/e1")],
        ),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "mlrelay-dev-alerts"},
            [("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:mlrelay-dev-alerts")],
        ),
        (
            "ssm",
            "GetParameter",
            {"Name": "/mlrelay/dev/slack"},
            [("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/mlrelay/dev/slack")],
        ),
        ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "runs/"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        ("s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v"}, [("s3:GetObjectVersion", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "CopyObject",
            {"Bucket": "b", "Key": "k", "CopySource": "/a/src"},
            [("s3:PutObject", "arn:aws:s3:::b/k"), ("s3:GetObject", "arn:aws:s3:::a/src")],
        ),
        ("states", "SendTaskFailure", {"taskToken": "t"}, [("states:SendTaskFailure", "*")]),
    ],
)
def test_each_request_is_authorized_on_the_resources_the_service_authorization_reference_names(signing, operation, params, expected):
    found = [(c.action, c.resource) for c in calls(signing, operation, params, "us-east-1", ACCOUNT)]
    assert found == expected


def test_list_bucket_carries_its_prefix_for_s3_prefix_conditions():
    (call,) = calls("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "runs/r1/"}, "us-east-1", ACCOUNT)
    assert call.context["s3:prefix"] == "runs/r1/"


def test_an_action_missing_from_the_reference_is_named():
    with pytest.raises(KeyError, match="states:NoSuchAction"):
        arn_formats("states:NoSuchAction")


def model_with(statements: list[dict[str, object]]) -> IamModel:
    model = IamModel(ACCOUNT)
    role = Role(
        "StepRole",
        "mlrelay-dev-StepRole",
        ACCOUNT,
        role_statements("mlrelay-dev-StepRole", [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]),
        frozenset({"lambda.amazonaws.com"}),
    )
    model.roles[role.arn] = role
    return model


def test_a_service_cannot_open_a_session_with_a_role_that_does_not_trust_it():
    model = model_with([])
    with pytest.raises(TrustError, match="states.amazonaws.com cannot assume mlrelay-dev-StepRole"):
        model.session(ROLE_ARN, "states.amazonaws.com", "x")


def test_the_data_apis_secret_is_read_with_the_callers_permissions():
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:warehouse-AbCdEf"
    cluster = f"arn:aws:redshift:us-east-1:{ACCOUNT}:cluster:analytics"
    model = model_with([{"Effect": "Allow", "Action": "redshift-data:ExecuteStatement", "Resource": cluster}])
    authorizer = Authorizer(model, {"operator"}, Lookups(), "us-east-1")
    session = model.session(ROLE_ARN, "lambda.amazonaws.com", "fn")
    with pytest.raises(AccessDeniedError, match="secretsmanager:GetSecretValue on resource: " + secret):
        authorizer.authorize(
            session.access_key,
            "redshift-data",
            "ExecuteStatement",
            {"ClusterIdentifier": "analytics", "SecretArn": secret, "Sql": "select 1"},
        )
    assert authorizer.census.denials[-1].action == "secretsmanager:GetSecretValue"


def test_the_census_records_what_a_role_used_and_by_which_statement():
    model = model_with([{"Sid": "Runs", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}])
    authorizer = Authorizer(model, {"operator"}, Lookups(), "us-east-1")
    session = model.session(ROLE_ARN, "lambda.amazonaws.com", "fn")
    authorizer.census.current_test = "tests/x.py::test_y"
    authorizer.authorize(session.access_key, "dynamodb", "GetItem", {"TableName": "runs"})
    assert authorizer.census.allowed["mlrelay-dev-StepRole"] == {("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/runs")}
    assert authorizer.census.used_statements["mlrelay-dev-StepRole"] == {"mlrelay-dev-StepRole/p/Runs"}
    assert authorizer.authorize("operator", "dynamodb", "DeleteTable", {"TableName": "runs"}) is None  # the operator is allowed


def test_a_sagemaker_resource_made_with_tags_needs_add_tags_on_it_too():
    model_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/mlrelay-dev-pt-v1-0123abcd"
    model = model_with([{"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": model_arn}])
    authorizer = Authorizer(model, {"operator"}, Lookups(), "us-east-1")
    session = model.session(ROLE_ARN, "lambda.amazonaws.com", "fn")
    create = {"ModelName": "mlrelay-dev-pt-v1-0123abcd", "Tags": [{"Key": "mlrelay:model", "Value": "pt"}]}

    with pytest.raises(AccessDeniedError, match="sagemaker:AddTags on resource: " + model_arn):
        authorizer.authorize(session.access_key, "sagemaker", "CreateModel", create)
    assert authorizer.authorize(session.access_key, "sagemaker", "CreateModel", {"ModelName": create["ModelName"]})


MODEL_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/mlrelay-dev-model-jobs"
MODEL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlrelay-dev-models/mlrelay-dev-pt"
WRITE_OWN_RUNS = {"Sid": "WriteOwnRunOutputs", "Effect": "Allow", "Action": "s3:PutObject",
                  "Resource": "arn:aws:s3:::bucket/runs/${aws:PrincipalTag/mlrelay_model}/*"}


def model_with_runtime_role(attached: tuple[str, ...] = (MODEL_POLICY,), boundary: str | None = MODEL_POLICY,
                            inline: dict[str, object] | None = None) -> IamModel:
    """A stack whose code made a model's role at run time, with the template's policy attached and as boundary."""
    model = IamModel(ACCOUNT)
    statements = tuple(Statement(f"mlrelay-dev-ModelJobPolicy/mlrelay-dev-model-jobs/{s['Sid']}", s) for s in [WRITE_OWN_RUNS])
    model.managed_policies[MODEL_POLICY] = ManagedPolicy("ModelJobPolicy", "mlrelay-dev-model-jobs", MODEL_POLICY, statements,
                                                         "mlrelay-dev-ModelJobPolicy")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    held = RuntimeRole("mlrelay-dev-pt", "/mlrelay-dev-models/", trust, attached, boundary, {"mlrelay_model": "pt"},
                       inline or {})
    model.runtime_role = lambda arn: held if arn == MODEL_ROLE else None
    return model


def test_a_role_made_at_run_time_writes_under_its_models_prefix_only():
    model = model_with_runtime_role()
    authorizer = Authorizer(model, set(), Lookups(), "us-east-1")
    session = model.session(MODEL_ROLE, "sagemaker.amazonaws.com", "SageMaker")

    assert session.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/mlrelay-dev-pt/SageMaker"
    assert authorizer.authorize(session.access_key, "s3", "PutObject", {"Bucket": "bucket", "Key": "runs/pt/r1/model.tar.gz"})
    with pytest.raises(AccessDeniedError, match="because no identity-based policy allows the s3:PutObject action"):
        authorizer.authorize(session.access_key, "s3", "PutObject", {"Bucket": "bucket", "Key": "runs/other/r1/model.tar.gz"})
    # the census counts the role's calls for the template's policy it attaches
    assert authorizer.census.used_statements["mlrelay-dev-ModelJobPolicy"] == {
        "mlrelay-dev-ModelJobPolicy/mlrelay-dev-model-jobs/WriteOwnRunOutputs"}


def test_a_permissions_boundary_caps_what_a_roles_own_policies_allow():
    everything = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}
    model = model_with_runtime_role(inline={"wide": {"Statement": [everything]}})
    authorizer = Authorizer(model, set(), Lookups(), "us-east-1")
    session = model.session(MODEL_ROLE, "sagemaker.amazonaws.com", "SageMaker")

    with pytest.raises(AccessDeniedError, match="because no permissions boundary allows the s3:PutObject action"):
        authorizer.authorize(session.access_key, "s3", "PutObject", {"Bucket": "bucket", "Key": "runs/other/x"})


def test_a_role_that_attaches_a_policy_the_template_does_not_have_is_named():
    model = model_with_runtime_role(attached=("arn:aws:iam::aws:policy/AdministratorAccess",))
    with pytest.raises(TrustError, match="uses the managed policy arn:aws:iam::aws:policy/AdministratorAccess"):
        model.session(MODEL_ROLE, "sagemaker.amazonaws.com", "SageMaker")


def test_making_a_role_is_authorized_with_its_path_boundary_and_tags():
    (call,) = calls("iam", "CreateRole", {"RoleName": "mlrelay-dev-pt", "Path": "/mlrelay-dev-models/",
                                          "PermissionsBoundary": MODEL_POLICY, "Tags.member.1.Key": "mlrelay_model",
                                          "Tags.member.1.Value": "pt"}, "us-east-1", ACCOUNT)

    assert call.resource == MODEL_ROLE
    assert call.context == {"iam:PermissionsBoundary": MODEL_POLICY, "aws:TagKeys": ["mlrelay_model"], "aws:RequestTag/mlrelay_model": "pt"}
    (attach,) = calls("iam", "AttachRolePolicy", {"RoleName": "mlrelay-dev-pt", "PolicyArn": MODEL_POLICY}, "us-east-1", ACCOUNT,
                      Lookups(role_path=lambda name: "/mlrelay-dev-models/"))
    assert (attach.resource, attach.context) == (MODEL_ROLE, {"iam:PolicyARN": MODEL_POLICY})


def test_a_models_role_is_tagged_only_as_it_is_made():
    tag_only_new = Statement("s/TagModelRoles", {
        "Effect": "Allow", "Action": "iam:TagRole", "Resource": MODEL_ROLE,
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["mlrelay_model"]}, "Null": {"aws:ResourceTag/mlrelay_model": "true"}},
    })
    retag = {"RoleName": "mlrelay-dev-pt", "Tags.member.1.Key": "mlrelay_model", "Tags.member.1.Value": "other"}
    held = Lookups(role_path=lambda name: "/mlrelay-dev-models/", role_tags=lambda name: {"mlrelay_model": "pt"})

    (call,) = calls("iam", "TagRole", retag, "us-east-1", ACCOUNT, held)

    assert call.context["aws:ResourceTag/mlrelay_model"] == "pt"
    request = Request(MODEL_ROLE, MODEL_ROLE, ACCOUNT, call.action, call.resource, call.context)
    assert not evaluate(request, [tag_only_new]).allowed  # another model's tag on a model's role: refused
    (made,) = calls("iam", "CreateRole", {**retag, "Path": "/mlrelay-dev-models/"}, "us-east-1", ACCOUNT, held)
    assert "aws:ResourceTag/mlrelay_model" not in made.context  # a role being made has no tags yet
