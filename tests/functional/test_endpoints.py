"""GIVEN a config with serving.endpoint, WHEN a version becomes the approved one (a training run, a person, a rollback),
THEN a deploy run moves its endpoint to it blue/green, the endpoint answers with that version's own serving code, an
error alarm rolls an update back and alerts with the resume command, and a family is served by segment
from one multi-model endpoint."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chalicelib.aws.model_versions import ModelVersions
from mlrelay.synthetic import synthesize
from tests.conftest import valid_config
from tests.functional.conftest import DATA_BUCKET

pytestmark = pytest.mark.functional
MODEL = "served-pt"
ENDPOINT = f"mlrelay-dev-{MODEL}"
# no bake: all at once (the canary's traffic split is tests/functional/test_endpoints_local.py's); an alarm already in
# ALARM rolls an update back all the same
SERVING = {"endpoint": "serverless", "memory_mb": 2048, "canary_minutes": 0}
FAMILY = "served-family"
FAMILY_TABLE = f"s3://{DATA_BUCKET}/segments/served-family.csv"


def deploy_runs(aws, model, version):
    return aws.runs(f"deploy-{model}-v{version}-", machine="deploy", timeout=240)


def deployment(aws, model):
    return ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb).deployment(model)


def train(aws, version):
    aws.drop_training_config(MODEL, serving=SERVING)
    aws.stack.runtime.wait_idle()
    return deploy_runs(aws, MODEL, version)


def rows(count=20):
    table = synthesize(count, seed=11)
    return table, json.dumps({c: (v.item() if hasattr(v, "item") else v) for c, v in table.iloc[0].items()})


@pytest.fixture(scope="module")
def first(aws):
    (run,) = train(aws, 1)
    return run


def test_an_approved_version_is_served_from_its_endpoint_once_the_deploy_run_ends(aws, first):
    assert first["status"] == "SUCCEEDED"
    described = aws.stack.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    recorded = deployment(aws, MODEL)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == recorded["config_name"]
    assert recorded["version"] == 1 and described["ProductionVariants"][0]["CurrentServerlessConfig"]["MemorySizeInMB"] == 2048
    assert aws.stack.endpoints.history(ENDPOINT)[:2] == ["Creating", "InService"]


def test_the_endpoint_answers_each_row_with_the_versions_own_serving_code(aws, cli, first, tmp_path):
    table, one = rows()
    path = tmp_path / "rows.csv"
    table.to_csv(path, index=False)

    code, output = cli("predict", MODEL, "--data", str(path), "--json")

    assert code == 0, output
    answer = json.loads(output)
    assert (answer["endpoint"], answer["version"]) == (ENDPOINT, 1) and len(answer["predictions"]) == 20
    right = sum(p["label"] == label for p, label in zip(answer["predictions"], table["package_type"], strict=True))
    assert right >= 15, (answer["predictions"], list(table["package_type"]))  # the model's macro F1 is about 0.9
    code, output = cli("predict", MODEL, "--row", one)
    assert code == 0 and f"{ENDPOINT}: {MODEL} v1" in output and f"1 {answer['predictions'][0]['label']} (" in output


def test_a_request_without_a_feature_is_refused_naming_it(cli, first):
    code, output = cli("predict", MODEL, "--row", '{"weight_g": 120}')

    assert code == 1 and "the rows lack the feature column(s)" in output and "length_cm" in output


@pytest.fixture(scope="module")
def promoted(aws, first):
    (run,) = train(aws, 2)  # the same table and model: as good as v1, so promoted
    return run


def test_a_promotion_moves_the_endpoint_to_the_new_version_blue_green(aws, cli, promoted):
    assert promoted["status"] == "SUCCEEDED" and deployment(aws, MODEL)["version"] == 2
    assert aws.stack.endpoints.history(ENDPOINT)[-2:] == ["Updating", "InService"]
    code, output = cli("endpoints", "list")
    assert code == 0 and f"{ENDPOINT}: v2, InService, serverless 2048 MB, $0.0040 per 1,000 requests" in output, output
    code, output = cli("models", "show", MODEL)
    assert code == 0 and f"endpoint {ENDPOINT}: serves v2" in output and "InService now" in output


@pytest.fixture(scope="module")
def rolled_back(aws, cli, promoted):
    before = {r["name"] for r in deploy_runs(aws, MODEL, 1)}
    answer = cli("models", "rollback", MODEL, "--reason", "v2 answers slowly")
    aws.stack.runtime.wait_idle()
    (run,) = [r for r in deploy_runs(aws, MODEL, 1) if r["name"] not in before]
    return answer, run


def test_a_rollback_of_the_model_rolls_its_endpoint_back(aws, rolled_back):
    (code, output), run = rolled_back

    assert code == 0 and "its endpoint is being moved to v1" in output
    assert run["status"] == "SUCCEEDED" and deployment(aws, MODEL)["version"] == 1


def test_an_error_alarm_rolls_the_update_back_alerts_once_and_a_resume_deploys_again(aws, cli, rolled_back):
    cloudwatch, sagemaker = aws.stack.client("cloudwatch"), aws.stack.client("sagemaker")
    cloudwatch.set_alarm_state(AlarmName=f"{ENDPOINT}-model-errors", StateValue="ALARM", StateReason="5xx answers")
    code, output = cli("models", "approve", MODEL, "2", "--reason", "the latency was the network")
    assert code == 0, output
    (run,) = [r for r in deploy_runs(aws, MODEL, 2) if r["status"] == "FAILED"]
    assert aws.stack.endpoints.history(ENDPOINT)[-3:] == ["Updating", "RollingBack", "InService"]
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService" and deployment(aws, MODEL)["version"] == 1
    assert described["EndpointConfigName"] == deployment(aws, MODEL)["config_name"]
    (post,) = aws.slack_posts(run["name"])
    text = json.dumps(post, ensure_ascii=False)
    assert "deploy run failed at DeployEndpoint" in text and "rolled endpoint" in text and "runs resume" in text

    cloudwatch.set_alarm_state(AlarmName=f"{ENDPOINT}-model-errors", StateValue="OK", StateReason="fixed")
    code, output = cli("runs", "resume", run["name"])
    assert code == 0, output
    aws.settle(240)
    assert deployment(aws, MODEL)["version"] == 2


@pytest.fixture(scope="module")
def family(aws):
    table = pd.concat([synthesize(300, seed=40 + i).assign(country=country) for i, country in enumerate(("DE", "FR"))])
    aws.s3.put_object(Bucket=DATA_BUCKET, Key=FAMILY_TABLE.split("/", 3)[3], Body=table.to_csv(index=False).encode())
    aws.drop_training_config(FAMILY, data={**valid_config()["data"], "uri": FAMILY_TABLE},
                             segments={"column": "country", "values": ["DE", "FR"]},
                             serving={"endpoint": "instance", "multi_model": True, "canary_minutes": 0})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{FAMILY}-", machine="segments", timeout=240)
    return run, [deploy_runs(aws, f"{FAMILY}-{c}", 1) for c in ("de", "fr")]


def test_a_family_is_served_by_segment_from_one_multi_model_endpoint(aws, cli, family):
    run, deploys = family
    assert run["status"] == "SUCCEEDED" and [[r["status"] for r in d] for d in deploys] == [["SUCCEEDED"], ["SUCCEEDED"]]
    assert {deployment(aws, f"{FAMILY}-{c}")["endpoint"] for c in ("de", "fr")} == {f"mlrelay-dev-{FAMILY}"}
    _, one = rows()
    for country in ("DE", "FR"):
        code, output = cli("predict", FAMILY, "--segment", country, "--row", one)
        assert code == 0 and f"{FAMILY}-{country.lower()} v1 ({FAMILY}-{country.lower()}/v1.tar.gz)" in output, output
    code, output = cli("predict", FAMILY, "--row", one)
    assert code == 1 and "--segment VALUE" in output
    code, output = cli("endpoints", "list")
    assert f"mlrelay-dev-{FAMILY}: {FAMILY}-de v1, {FAMILY}-fr v1, InService, ml.m5.large x1, $0.115/hour ($84/month)" in output
