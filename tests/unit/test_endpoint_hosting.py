"""Real-time endpoints' pure parts: the blue/green plan, the traffic split, the host's frames; and the moto lacks the
endpoint patches fill (mlrelay/local/emulated/sagemaker_endpoints.py), pinned so a moto upgrade says so loudly."""

from __future__ import annotations

import inspect
import io

import pytest
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.models import SageMakerRuntimeBackend
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from mlrelay.local.emulated import sagemaker_endpoints
from mlrelay.local.endpoint_deploy import DeploymentConfigError, Shift, goes_to_green, pick_variant, plan
from mlrelay.local.endpoint_host import read_frame, write_frame


def blue_green(routing: dict, **policy: object) -> dict:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing, **policy}}


def test_without_a_deployment_config_all_traffic_moves_at_once_with_no_baking():
    steps = plan(None, 1)

    assert steps.shifts == (Shift(1.0, 0.0),) and steps.alarms == () and steps.termination_wait_seconds == 0


def test_a_canary_sends_its_percent_for_the_wait_interval_then_everything():
    config = blue_green({"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}, "WaitIntervalInSeconds": 300},
                        TerminationWaitInSeconds=120, MaximumExecutionTimeoutInSeconds=1800)
    config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}

    steps = plan(config, 4)

    assert steps.shifts == (Shift(0.1, 300.0), Shift(1.0, 0.0))
    assert steps.alarms == ("errors", "latency")
    assert steps.termination_wait_seconds == 120 and steps.timeout_seconds == 1800


def test_a_canary_by_instance_count_is_that_share_of_the_new_fleet():
    steps = plan(blue_green({"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 60}), 4)

    assert steps.shifts[0] == Shift(0.25, 60.0)


def test_linear_steps_until_all_traffic_bakes_each_but_the_last():
    steps = plan(blue_green({"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 40},
                             "WaitIntervalInSeconds": 30}), 2)

    assert steps.shifts == (Shift(0.4, 30.0), Shift(0.8, 30.0), Shift(1.0, 0.0))


def test_all_at_once_bakes_for_the_wait_interval():
    assert plan(blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 90}), 1).shifts == (Shift(1.0, 90.0),)


@pytest.mark.parametrize(("routing", "names"), [
    ({"Type": "BLUE_ONLY"}, "TrafficRoutingConfiguration.Type 'BLUE_ONLY'"),
    ({"Type": "CANARY", "WaitIntervalInSeconds": 5}, "CanarySize.Type"),
    ({"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 150}}, "CanarySize.Value 150 is out of range"),
    ({"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 3}}, "CanarySize.Value 3 is out of range"),
])
def test_a_deployment_config_sagemaker_refuses_names_its_field(routing, names):
    with pytest.raises(DeploymentConfigError, match=names):
        plan(blue_green(routing), 2)


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5, 1 / 3, 1.0])
def test_the_split_sends_exactly_the_share_of_every_run_of_requests(share):
    per_run = round(1 / share)  # a run of requests as long as one green request's share

    sent = [goes_to_green(n, share) for n in range(per_run * 20)]

    assert sum(sent) == 20
    assert all(sum(sent[i:i + per_run]) == 1 for i in range(0, len(sent), per_run))


def test_variants_get_requests_in_proportion_to_their_weights():
    picked = [pick_variant(n, [("a", 3.0), ("b", 1.0)]) for n in range(1000)]

    assert 740 <= picked.count("a") <= 760
    assert pick_variant(7, [("only", 0.0)]) == "only"


def test_frames_carry_meta_and_bytes_and_end_with_the_stream():
    stream = io.BytesIO()
    write_frame(stream, {"content_type": "text/csv"}, b"1,2\n")
    write_frame(stream, {"ok": True})
    stream.seek(0)

    assert read_frame(stream) == ({"content_type": "text/csv"}, b"1,2\n")
    assert read_frame(stream) == ({"ok": True}, b"")
    assert read_frame(stream) is None


# --- moto 5.2.5's lacks, which the endpoint patches fill -----------------------------------------------------------
def test_moto_still_lacks_update_endpoint_and_makes_endpoints_in_service_at_once():
    assert not hasattr(SageMakerResponse, "update_endpoint")
    assert 'self.endpoint_status = "InService"' in inspect.getsource(FakeEndpoint.__init__)
    assert "self.endpoints[endpoint_name] = endpoint" in inspect.getsource(SageMakerModelBackend.create_endpoint)
    assert "already" not in inspect.getsource(SageMakerModelBackend.create_endpoint)  # a second create replaces the first


def test_moto_still_answers_invocations_with_canned_bodies():
    assert "return static data by default" in inspect.getsource(SageMakerRuntimeBackend.invoke_endpoint)


def test_the_endpoint_patches_still_replace_what_they_expect():
    assert list(inspect.signature(SageMakerModelBackend.create_endpoint).parameters) == [
        "self", "endpoint_name", "endpoint_config_name", "tags"]
    assert list(inspect.signature(SageMakerModelBackend.delete_endpoint).parameters) == ["self", "endpoint_name"]
    assert list(inspect.signature(SageMakerRuntimeResponse.invoke_endpoint).parameters) == ["self"]
    # the catalog writes these attributes, which moto's DescribeEndpoint answers in CamelCase when they are not None
    source = inspect.getsource(FakeEndpoint)
    assert "def _process_production_variants" in source and "CurrentServerlessConfig" in source
    assert "gen_response_object()" in inspect.getsource(FakeEndpoint.response_object.fget)


def test_the_endpoint_patches_are_undone():
    class Endpoints:
        shut = False

        def shutdown(self):
            self.shut = True

    endpoints = Endpoints()
    before = (SageMakerModelBackend.create_endpoint, SageMakerModelBackend.delete_endpoint, SageMakerRuntimeResponse.invoke_endpoint)

    with sagemaker_endpoints.patched(endpoints):
        assert hasattr(SageMakerResponse, "update_endpoint")
        assert SageMakerModelBackend.create_endpoint is not before[0]

    assert (SageMakerModelBackend.create_endpoint, SageMakerModelBackend.delete_endpoint,
            SageMakerRuntimeResponse.invoke_endpoint) == before
    assert not hasattr(SageMakerResponse, "update_endpoint")
    assert endpoints.shut  # the stack's stop ends every host with the patch
