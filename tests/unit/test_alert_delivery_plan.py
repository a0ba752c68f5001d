from chalicelib.alerts.plan import plan_delivery
from chalicelib.aws.alert_ledger import AlertRecord


def record(ids, delivered=()):
    return AlertRecord(frozenset(ids), frozenset(delivered), window_ends=0)


def test_a_first_message_goes_to_every_channel():
    assert plan_delivery(record({"m1"}), "m1").channels == ("slack", "sns")


def test_a_retry_sends_only_what_did_not_go_out():
    plan = plan_delivery(record({"m1"}, {"slack"}), "m1")

    assert plan.channels == ("sns",) and not plan.collapsed


def test_a_repeat_after_delivery_is_collapsed_and_counted():
    plan = plan_delivery(record({"m1", "m2", "m3"}, {"slack", "sns"}), "m3")

    assert plan.collapsed and plan.channels == () and plan.repeats == 3


def test_a_repeat_while_the_first_is_undelivered_completes_the_delivery():
    plan = plan_delivery(record({"m1", "m2"}, {"slack"}), "m2")

    assert plan.channels == ("sns",) and not plan.collapsed


def test_a_storm_is_announced_again_only_at_ten_a_hundred_a_thousand():
    delivered = {"slack", "sns"}
    announced = [n for n in range(2, 2001) if not plan_delivery(record({f"m{i}" for i in range(n)}, delivered), f"m{n - 1}").collapsed]

    assert announced == [10, 100, 1000]


def test_a_milestone_post_is_marked_apart_so_its_retry_resends_only_what_failed():
    ids = {f"m{i}" for i in range(10)}
    plan = plan_delivery(record(ids, {"slack", "sns", "slack#10"}), "m9")

    assert (plan.channels, plan.milestone, plan.delivered_mark("sns")) == (("sns",), 10, "sns#10")
