"""GIVEN a version that becomes the approved one, WHEN its config asks for an endpoint, THEN a deploy run creates or
updates the endpoint blue/green, and its check records what SageMaker serves (or fails saying why)."""

import json

import pytest

from chalicelib.approvals.handler import DecisionRequest, decide
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.config.parsing import ConfigError, parse_new_config
from chalicelib.shared.endpoint_states import EndpointBusyError, EndpointState
from chalicelib.training.deploy import check_endpoint, deploy_endpoint, start_after_training
from chalicelib.training.deploy_plan import DeploymentFailedError, plan_deployment, progress
from chalicelib.training.requests import CheckEndpointStep, DeployEndpointStep, StartDeploymentStep
from tests.conftest import valid_config
from tests.unit.fakes import FakePorts

MODEL = "packaging-type"
SERVERLESS = {"endpoint": "serverless", "memory_mb": 2048, "max_concurrency": 5, "instance_type": "ml.m5.large",
              "instance_count": 1, "multi_model": False, "canary_percent": 10, "canary_minutes": 5}
CONTAINER = {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
             "ModelDataUrl": "s3://b/runs/packaging-type/r1/model.tar.gz",
             "Environment": {"SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code/x.tar.gz"}}


# --- the config ---------------------------------------------------------------


@pytest.mark.parametrize(("serving", "path", "words"), [
    ({"endpoint": "serverless", "instance_type": "ml.m5.large"}, "serving.instance_type", "applies to instance endpoints"),
    ({"endpoint": "instance", "memory_mb": 2048}, "serving.memory_mb", "applies to serverless endpoints"),
    ({"memory_mb": 2048}, "serving.memory_mb", "set serving.endpoint"),
    ({"endpoint": "serverless", "multi_model": True}, "serving.multi_model", "multi-model endpoints on instances only"),
    ({"endpoint": "instance", "multi_model": True}, "serving.multi_model", "add segments, or remove multi_model"),
    ({"endpoint": "instance", "instance_type": "ml.p9.huge"}, "serving.instance_type", "not one of the instance types"),
    ({"endpoint": "serverless", "memory_mb": 1500}, "serving.memory_mb", "1024, 2048, 3072"),
])
def test_serving_settings_that_do_not_go_together_are_refused_naming_the_field(serving, path, words):
    with pytest.raises(ConfigError) as caught:
        parse_new_config(json.dumps(valid_config(serving=serving)).encode(), "configs/train/packaging-type.json")

    assert any(p.path == path and words in p.message for p in caught.value.problems), caught.value.problems


def test_a_config_without_serving_asks_for_no_endpoint():
    config = parse_new_config(json.dumps(valid_config()).encode(), "configs/train/packaging-type.json")

    assert config.serving.endpoint is None


# --- the plan -----------------------------------------------------------------


def test_a_first_deployment_creates_the_endpoint_with_the_serverless_settings():
    plan = plan_deployment("dev", MODEL, 1, SERVERLESS, CONTAINER, None, "b", None)

    assert plan.action == "create" and plan.endpoint == "mlrelay-dev-packaging-type"
    assert plan.variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert plan.container == CONTAINER and plan.sagemaker_model.startswith("mlrelay-dev-packaging-type-v1-")


def test_a_new_version_updates_the_endpoint_with_a_canary_and_the_error_alarm_to_roll_back_on():
    serving = {**SERVERLESS, "endpoint": "instance", "instance_count": 2, "canary_percent": 25, "canary_minutes": 10}
    now = EndpointState("mlrelay-dev-packaging-type", "InService", "mlrelay-dev-packaging-type-v1-00000000")

    plan = plan_deployment("dev", MODEL, 2, serving, CONTAINER, None, "b", now)

    routing = plan.deployment_config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert plan.action == "update" and routing == {
        "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 600}
    assert plan.deployment_config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": f"{now.name}-model-errors"}]}
    assert plan.variant["InstanceType"] == "ml.m5.large" and plan.variant["InitialInstanceCount"] == 2


def test_one_instance_moves_all_at_once_after_the_same_bake():
    serving = {**SERVERLESS, "endpoint": "instance", "instance_count": 1}
    now = EndpointState("mlrelay-dev-packaging-type", "InService", "old")

    routing = plan_deployment("dev", MODEL, 2, serving, CONTAINER, None, "b", now).deployment_config[
        "BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]

    assert routing == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}


def test_the_same_version_and_settings_again_change_nothing_and_a_changing_endpoint_is_waited_for():
    first = plan_deployment("dev", MODEL, 1, SERVERLESS, CONTAINER, None, "b", None)
    serving_it = EndpointState(first.endpoint, "InService", first.config_name)

    assert plan_deployment("dev", MODEL, 1, SERVERLESS, CONTAINER, None, "b", serving_it).action == "none"
    with pytest.raises(EndpointBusyError, match="is Updating"):
        plan_deployment("dev", MODEL, 2, SERVERLESS, CONTAINER, None, "b", EndpointState(first.endpoint, "Updating", "x"))
    # while Updating, DescribeEndpoint names the config being replaced: going back to it must wait for the update
    with pytest.raises(EndpointBusyError, match="is Updating"):
        plan_deployment("dev", MODEL, 1, SERVERLESS, CONTAINER, None, "b", EndpointState(first.endpoint, "Updating", first.config_name))


def test_the_container_is_what_create_model_takes_of_the_registered_one():
    registered = {**CONTAINER, "ImageDigest": "sha256:" + "0" * 64, "Framework": "SKLEARN"}

    assert plan_deployment("dev", MODEL, 1, SERVERLESS, registered, None, "b", None).container == CONTAINER


def test_a_segment_of_a_family_is_served_from_the_familys_multi_model_endpoint_by_a_new_target_per_version():
    serving = {**SERVERLESS, "endpoint": "instance", "multi_model": True}

    plan = plan_deployment("dev", "pt-de", 3, serving, CONTAINER, "pt", "b", None)

    assert plan.endpoint == "mlrelay-dev-pt" and plan.target_model == "pt-de/v3.tar.gz"
    assert plan.target_uri == "s3://b/endpoints/pt/pt-de/v3.tar.gz"
    assert plan.container["Mode"] == "MultiModel" and plan.container["ModelDataUrl"] == "s3://b/endpoints/pt/"
    other = plan_deployment("dev", "pt-fr", 1, serving, CONTAINER, "pt", "b", None)
    assert (other.endpoint, other.config_name) == (plan.endpoint, plan.config_name)  # one endpoint for the family


@pytest.mark.parametrize(("endpoint", "wanted", "state"), [
    (EndpointState("e", "Updating", "new"), True, "in_progress"),
    (EndpointState("e", "InService", "new"), True, "in_service"),
    (EndpointState("e", "InService", "newer"), False, "superseded"),
])
def test_a_deployments_progress_follows_the_endpoint(endpoint, wanted, state):
    assert progress("new", endpoint, wanted).state == state


def test_a_rolled_back_deployment_fails_saying_what_sagemaker_said():
    endpoint = EndpointState("e", "InService", "old", "alarm e-model-errors went into ALARM during the canary")

    with pytest.raises(DeploymentFailedError, match="rolled endpoint e back to old: alarm e-model-errors"):
        progress("new", endpoint, still_wanted=True)


# --- the steps, on fakes ------------------------------------------------------


def served_model(ports, versions=(1,), serving=SERVERLESS):
    document = valid_config(serving={k: v for k, v in serving.items() if k in ("endpoint", "memory_mb")})
    ports.s3.put("configs", "configs/train/packaging-type.json", json.dumps(document).encode())
    ports.registry.ensure_group(MODEL, "")
    for version in versions:
        artifact = f"s3://{ports.artifact_bucket}/runs/{MODEL}/r{version}/model.tar.gz"
        ports.s3.put(ports.artifact_bucket, f"runs/{MODEL}/r{version}/model.tar.gz", b"model")
        arn = ports.registry.register(MODEL, "Approved", "", {**CONTAINER, "ModelDataUrl": artifact}, {})
        config = {"bucket": "configs", "key": "configs/train/packaging-type.json", "version_id": None}
        ports.models.put(VersionRecord(MODEL, version, "Approved", f"r{version}", arn, {}, {}, "2026-12-07T00:00:00+00:00", config))
        ports.models.set_pointer(MODEL, ports.models.version(MODEL, version), "2026-12-07T00:00:00+00:00")


def deploy(ports, version, run="deploy-1"):
    return deploy_endpoint(DeployEndpointStep(step="deploy_endpoint", run_id=run, model_name=MODEL, version=version), ports)


def check(ports, version, deployment, run="deploy-1"):
    return check_endpoint(CheckEndpointStep(step="check_endpoint", run_id=run, model_name=MODEL, version=version,
                                            deployment=deployment), ports)


def test_a_promoted_version_whose_config_asks_for_an_endpoint_starts_one_deploy_run():
    ports = FakePorts()
    served_model(ports)
    step = StartDeploymentStep(step="start_deployment", run_id="train-1", model_name=MODEL, version=1, status="Approved")

    first, again = start_after_training(step, ports), start_after_training(step, ports)

    assert first["started"] and first == again and len(ports.workflows.started) == 1
    (payload,) = ports.workflows.started.values()
    assert (payload["workflow"], payload["model_name"], payload["version"]) == ("deploy", MODEL, 1)


def test_a_rejected_or_unserved_version_starts_nothing():
    ports = FakePorts()
    served_model(ports)
    rejected = StartDeploymentStep(step="start_deployment", run_id="train-2", model_name=MODEL, version=1, status="Rejected")
    assert start_after_training(rejected, ports) == {"started": False, "run_id": ""}
    unserved = FakePorts()
    served_model(unserved, serving={})
    approved = rejected.model_copy(update={"status": "Approved"})
    assert start_after_training(approved, unserved) == {"started": False, "run_id": ""} and not unserved.workflows.started


def test_the_first_deployment_creates_the_endpoint_and_its_check_records_it_once_in_service():
    ports = FakePorts()
    served_model(ports)

    deployment = deploy(ports, 1)["deployment"]
    assert check(ports, 1, deployment)["state"] == "in_progress" and ports.models.deployment(MODEL) is None
    ports.endpoints.settle(deployment["endpoint"])

    assert check(ports, 1, deployment)["state"] == "in_service"
    recorded = ports.models.deployment(MODEL)
    assert (recorded["endpoint"], recorded["version"], recorded["serving"]["endpoint"]) == ("mlrelay-dev-packaging-type", 1, "serverless")
    (model,) = ports.endpoints.models.values()
    assert model["role_arn"].endswith(f"/mlrelay-test-{MODEL}") and ports.endpoints.alarms  # the fakes' stage is "test"


def in_service(ports, version):
    deployment = deploy(ports, version, run=f"deploy-{version}")["deployment"]
    ports.endpoints.settle(deployment["endpoint"])
    assert check(ports, version, deployment, run=f"deploy-{version}")["state"] == "in_service"
    return deployment


def test_a_second_version_updates_the_endpoint_guarded_and_a_rollback_by_sagemaker_fails_the_run():
    ports = FakePorts()
    served_model(ports, versions=(1,))
    first = in_service(ports, 1)
    served_model(ports, versions=(2,))

    second = deploy(ports, 2, run="deploy-2")["deployment"]
    (name, config, guardrails) = ports.endpoints.updates[-1]
    assert second["action"] == "update" and config == second["config_name"] and "AutoRollbackConfiguration" in guardrails
    ports.endpoints.settle(second["endpoint"], first["config_name"], reason="alarm mlrelay-dev-packaging-type-model-errors")

    with pytest.raises(DeploymentFailedError, match="rolled endpoint mlrelay-dev-packaging-type back"):
        check(ports, 2, second, run="deploy-2")


def test_going_back_to_an_older_version_is_not_held_back_by_the_alarm_of_the_fleet_it_replaces():
    ports = FakePorts()
    served_model(ports, versions=(1,))
    in_service(ports, 1)
    served_model(ports, versions=(2,))
    in_service(ports, 2)
    ports.models.set_pointer(MODEL, ports.models.version(MODEL, 1), "2026-12-07T01:00:00+00:00")  # a person's rollback

    back = deploy(ports, 1, run="deploy-back")["deployment"]

    assert back["action"] == "update" and "AutoRollbackConfiguration" not in ports.endpoints.updates[-1][2]


def test_a_deploy_run_of_a_version_no_longer_approved_deploys_nothing():
    ports = FakePorts()
    served_model(ports, versions=(1, 2))  # v2 is the approved one

    stale = deploy(ports, 1, run="deploy-stale")["deployment"]

    assert stale["action"] == "superseded" and not ports.endpoints.models and not ports.endpoints.states
    assert check(ports, 1, stale, run="deploy-stale")["state"] == "superseded"


def test_a_failed_endpoint_is_deleted_and_the_step_waits_to_create_it_again():
    ports = FakePorts()
    served_model(ports)
    ports.endpoints.states["mlrelay-dev-packaging-type"] = EndpointState("mlrelay-dev-packaging-type", "Failed", "x", "model_fn raised")

    with pytest.raises(EndpointBusyError, match="had failed"):
        deploy(ports, 1)

    assert ports.endpoints.deleted == ["mlrelay-dev-packaging-type"] and deploy(ports, 1)["deployment"]["action"] == "create"


def test_a_persons_rollback_moves_the_endpoint_to_the_older_version():
    ports = FakePorts()
    served_model(ports, versions=(1, 2))

    answer = decide(DecisionRequest(action="rollback", model_name=MODEL, reason="v2 answers badly",
                                    actor="arn:aws:iam::123456789012:user/alice"), ports)

    assert answer["outcome"] == "decided" and "its endpoint is being moved to v1" in answer["message"]
    (payload,) = ports.workflows.started.values()
    assert (payload["version"], payload["reason"]) == (1, "rollback by arn:aws:iam::123456789012:user/alice")
