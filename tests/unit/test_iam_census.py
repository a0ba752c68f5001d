"""The census check that closes `make test`: unused statements must be listed with a reason, and only those."""

import json

from mlrelay.iam_census import report, statement_key


def write(directory, worker, roles):
    (directory / f"{worker}.json").write_text(json.dumps({**roles, "denials": []}))


def role(statements, used, allowed=()):
    return {"statements": statements, "used_statements": used, "allowed": list(allowed), "tests_by_action": {}}


def test_statements_are_named_by_role_and_sid_without_the_stage():
    assert statement_key("mlrelay-dev-TrainingStepRole/mlrelay-training_step/ListModelArtifacts") == "TrainingStepRole/ListModelArtifacts"
    assert statement_key("mlrelay-prod-sagemaker-execution/pipeline-jobs/JobLogs") == "sagemaker-execution/JobLogs"


def test_a_statement_used_by_one_worker_is_used(tmp_path):
    a, b = "mlrelay-dev-StepRole/p/A", "mlrelay-dev-StepRole/p/B"
    write(tmp_path, "gw0", {"mlrelay-dev-StepRole": role([a, b], [a], ["s3:GetObject arn:aws:s3:::x/y"])})
    write(tmp_path, "gw1", {"mlrelay-dev-StepRole": role([a, b], [b])})

    lines, problems = report(tmp_path, {})

    assert problems == []
    assert lines == ["mlrelay-dev-StepRole: 1 (action, resource) pairs, 1 actions; 2 of 2 statements used"]


def test_an_unused_statement_must_be_listed_and_a_listed_one_must_be_unused(tmp_path):
    a, b = "mlrelay-dev-StepRole/p/A", "mlrelay-dev-StepRole/p/B"
    write(tmp_path, "gw0", {"mlrelay-dev-StepRole": role([a, b], [a])})

    _, unlisted = report(tmp_path, {})
    lines, stale = report(tmp_path, {"StepRole/B": "needed on AWS when ...", "StepRole/A": "old reason"})

    assert unlisted == ["StepRole/B is used by no test: exercise it, remove it, or list it in iam-unexercised.json with why"]
    assert "  unused StepRole/B: needed on AWS when ..." in lines
    assert stale == ["StepRole/A is listed in iam-unexercised.json but a test used it: remove it from the list"]
