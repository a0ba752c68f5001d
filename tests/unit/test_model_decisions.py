"""GIVEN a model's versions, WHEN a person (or the registry) decides, THEN status, pointer, history and notice follow once."""

from dataclasses import replace

import pytest

from chalicelib.approvals.handler import DecisionRequest, RegistryStateChange, decide, follow_registry
from chalicelib.approvals.plan import APPROVED, PENDING, REJECTED, DecisionError, plan_decision
from chalicelib.aws.model_versions import VersionRecord
from chalicelib.shared.naming import package_group_name
from tests.conftest import load_event
from tests.unit.fakes import FakePorts

MODEL = "packaging-type"
ALICE = "arn:aws:iam::123456789012:user/alice"


# --- the plan, no IO ----------------------------------------------------------


def test_approving_a_pending_version_makes_it_the_one_in_use():
    plan = plan_decision("approve", MODEL, {1: APPROVED, 2: PENDING}, 1, 2)

    assert [(c.version, c.before, c.after) for c in plan.changes] == [(2, PENDING, APPROVED)]
    assert (plan.pointer_before, plan.pointer_after) == (1, 2)


def test_rejecting_the_version_in_use_falls_back_to_the_newest_other_approved_one():
    plan = plan_decision("reject", MODEL, {1: APPROVED, 2: APPROVED, 3: APPROVED}, 3, 3)

    assert [(c.version, c.after) for c in plan.changes] == [(3, REJECTED)] and plan.pointer_after == 2


def test_rejecting_the_only_approved_version_leaves_none_in_use():
    assert plan_decision("reject", MODEL, {1: APPROVED}, 1, 1).pointer_after is None


def test_a_rollback_goes_to_the_approved_version_before_the_current_one_and_rejects_the_current():
    plan = plan_decision("rollback", MODEL, {1: APPROVED, 2: REJECTED, 3: APPROVED}, 3, None)

    assert plan.version == 1 and (plan.pointer_before, plan.pointer_after) == (3, 1)
    assert [(c.version, c.before, c.after) for c in plan.changes] == [(3, APPROVED, REJECTED)]


@pytest.mark.parametrize(
    ("action", "statuses", "pointer", "version", "words"),
    [
        ("rollback", {1: APPROVED}, 1, None, "no approved version before v1: name one with --to"),
        ("rollback", {1: REJECTED, 2: APPROVED}, 2, 1, "is Rejected, not Approved: to use it, `mlrelay models approve"),
        ("rollback", {1: PENDING}, None, None, "no approved version to roll back from"),
        ("approve", {1: APPROVED}, 1, 7, "has no v7 (versions: v1)"),
    ],
)
def test_a_decision_that_cannot_be_made_says_what_to_do_instead(action, statuses, pointer, version, words):
    with pytest.raises(DecisionError) as caught:
        plan_decision(action, MODEL, statuses, pointer, version)

    assert words in str(caught.value)


def test_approving_the_version_in_use_changes_nothing():
    plan = plan_decision("approve", MODEL, {1: APPROVED}, 1, 1)

    assert plan.unchanged == "v1 is already approved and in use" and plan.changes == ()


# --- the use case, on fakes ---------------------------------------------------


@pytest.fixture
def ports():
    ports = FakePorts()
    ports.registry.ensure_group(MODEL, "")
    for version, status in ((1, APPROVED), (2, APPROVED), (3, PENDING)):
        artifact = f"s3://{ports.artifact_bucket}/runs/{MODEL}/r{version}/model/model.tar.gz"
        ports.s3.put(ports.artifact_bucket, f"runs/{MODEL}/r{version}/model/model.tar.gz", b"model")
        arn = ports.registry.register(MODEL, status, "", {"Image": "i", "ModelDataUrl": artifact}, {})
        ports.models.put(VersionRecord(MODEL, version, status, f"r{version}", arn, {}, {}, "2026-11-24T00:00:00+00:00", {}))
    ports.models.set_pointer(MODEL, ports.models.version(MODEL, 2), "2026-11-24T00:00:00+00:00")
    return ports


def request(action, version=None, reason="checked by hand"):
    return DecisionRequest(action=action, model_name=MODEL, version=version, reason=reason, actor=ALICE)


def test_an_approval_changes_the_registry_and_the_pointer_together_records_who_and_tells_people(ports):
    answer = decide(request("approve", 3, "better on the new catalogue"), ports)

    assert answer["outcome"] == "decided" and ports.models.approved(MODEL).version == 3
    record = ports.models.version(MODEL, 3)
    assert record.status == APPROVED and ports.registry.packages[record.model_package_arn]["status"] == APPROVED
    (entry,) = record.history
    assert (entry["actor"], entry["action"], entry["from"], entry["to"], entry["reason"]) == (
        ALICE, "approve", PENDING, APPROVED, "better on the new catalogue")
    (notice,) = ports.notifications.messages
    assert (notice["kind"], notice["approved_before"], notice["approved_after"], notice["actor"]) == ("model_decided", 2, 3, ALICE)


def test_a_rollback_to_a_version_whose_artifact_is_gone_is_refused_and_nothing_changes(ports):
    ports.s3.objects.pop((ports.artifact_bucket, f"runs/{MODEL}/r1/model/model.tar.gz"))

    answer = decide(request("rollback"), ports)

    assert answer["outcome"] == "refused" and "its model artifact s3://" in answer["message"] and "is gone" in answer["message"]
    assert ports.models.approved(MODEL).version == 2 and ports.models.version(MODEL, 2).status == APPROVED
    assert ports.notifications.messages == []


def test_a_rollback_to_a_version_whose_artifact_was_written_over_is_refused_naming_the_key(ports):
    key = f"runs/{MODEL}/r1/model/model.tar.gz"
    pinned = ports.s3.fingerprint(f"s3://{ports.artifact_bucket}/{key}")
    record = ports.models.version(MODEL, 1)
    ports.models.put(replace(record, artifact={"uri": pinned.uri, "version_id": pinned.version_id, "sha256": pinned.sha256}))
    ports.s3.put(ports.artifact_bucket, key, b"another model's bytes")

    answer = decide(request("rollback"), ports)

    assert answer["outcome"] == "refused", answer
    assert f"v1 of {MODEL} cannot be used: model {MODEL} v1's artifact s3://{ports.artifact_bucket}/{key}" in answer["message"]
    assert ports.models.approved(MODEL).version == 2
    ports.s3.put(ports.artifact_bucket, key, b"model")  # the registered bytes, restored: a new S3 version, the same model
    assert decide(request("rollback"), ports)["outcome"] == "decided"


def test_a_rollback_moves_inference_back_and_marks_the_current_version_rejected_everywhere(ports):
    answer = decide(request("rollback", reason="v2 mislabels fragile items"), ports)

    assert answer["outcome"] == "decided" and ports.models.approved(MODEL).version == 1
    current = ports.models.version(MODEL, 2)
    assert current.status == REJECTED and ports.registry.packages[current.model_package_arn]["status"] == REJECTED
    assert current.history[-1]["reason"] == "v2 mislabels fragile items"


def test_the_registrys_event_for_the_same_change_twice_moves_the_pointer_once(ports):
    event = load_event("decide_model")
    event["detail"] |= {"ModelPackageGroupName": package_group_name("dev", MODEL), "ModelPackageVersion": 3}
    ports.registry.set_status(ports.models.version(MODEL, 3).model_package_arn, APPROVED, "approved in Studio")  # then its event

    first = follow_registry(RegistryStateChange.model_validate(event), ports)
    again = follow_registry(RegistryStateChange.model_validate(event), ports)

    assert (first["outcome"], again["outcome"]) == ("decided", "unchanged")
    assert ports.models.approved(MODEL).version == 3 and len(ports.models.version(MODEL, 3).history) == 1
    assert len(ports.notifications.messages) == 1
    assert ports.models.version(MODEL, 3).history[0]["reason"] == event["detail"]["ApprovalDescription"]


def test_a_late_event_of_a_change_the_registry_has_since_undone_changes_nothing(ports):
    # v3 was registered Approved, then Rejected (it lost a promotion race); the Approved event arrives last
    ports.registry.set_status(ports.models.version(MODEL, 3).model_package_arn, REJECTED, "judged again against v2")
    event = load_event("decide_model")
    event["detail"] |= {"ModelPackageGroupName": package_group_name("dev", MODEL), "ModelPackageVersion": 3,
                        "ModelApprovalStatus": APPROVED}

    answer = follow_registry(RegistryStateChange.model_validate(event), ports)

    assert answer["outcome"] == "unchanged" and "is Rejected in the registry now" in answer["message"]
    assert ports.models.approved(MODEL).version == 2 and ports.notifications.messages == []


def test_the_registrys_event_for_another_stages_group_changes_nothing(ports):
    event = load_event("decide_model")
    event["detail"] |= {"ModelPackageGroupName": package_group_name("prod", MODEL), "ModelPackageVersion": 3}

    answer = follow_registry(RegistryStateChange.model_validate(event), ports)

    assert answer["outcome"] == "unchanged" and "not a package group of this stage" in answer["message"]
    assert ports.models.approved(MODEL).version != 3 and ports.notifications.messages == []
