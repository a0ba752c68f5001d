"""The cost estimate is arithmetic on what a run used and the listed prices: checked by hand here."""

import pytest

from mlrelay.costs import Usage, endpoint_cost, estimate, prices

PRICES = {
    "stepfunctions_per_transition": 0.000025, "lambda_per_request": 0.0000002, "lambda_per_gb_second": 0.0000166667,
    "sagemaker_per_instance_hour": {"ml.m5.large": 0.115}, "redshift_serverless_per_rpu_hour": 0.375,
    "redshift_serverless_base_rpu": 8, "redshift_serverless_minimum_seconds": 60,
}


def test_each_service_is_priced_from_its_usage():
    usage = Usage(transitions=40, lambda_requests=6, lambda_gb_seconds=3.0, instance_seconds={"ml.m5.large": 720.0},
                  warehouse_statement_seconds=(2.5, 75.0))

    lines = {line.item.split(" (")[0]: line.usd for line in estimate(usage, PRICES).lines}

    assert lines["Step Functions state transitions"] == pytest.approx(0.001)
    assert lines["Lambda requests"] == pytest.approx(0.0000012)
    assert lines["Lambda compute"] == pytest.approx(3.0 * 0.0000166667)
    assert lines["SageMaker ml.m5.large"] == pytest.approx(0.023)  # 0.2 instance-hours
    assert lines["Redshift Serverless"] == pytest.approx((60 + 75) * 8 / 3600 * 0.375)  # a short statement bills 60 s


def test_an_instance_type_without_a_price_is_named_not_guessed():
    result = estimate(Usage(instance_seconds={"ml.p4d.24xlarge": 60.0}), PRICES)

    assert result.unpriced == ("SageMaker ml.p4d.24xlarge",) and result.total == 0.0


def test_the_prices_file_says_where_and_when_its_prices_are_from():
    listed = prices()

    assert listed["region"] and listed["as_of"]
    assert set(listed["sources"]) == {"stepfunctions", "lambda", "sagemaker", "sagemaker_hosting", "redshift_serverless"}
    assert "ml.m5.large" in listed["sagemaker_per_instance_hour"]  # mlrelay's own steps run there


def test_an_endpoint_costs_its_instances_by_the_hour_or_serverless_compute_and_data_by_the_request():
    price = prices()
    instance = endpoint_cost({"endpoint": "instance", "instance_type": "ml.m5.large", "instance_count": 2}, price)
    serverless = endpoint_cost({"endpoint": "serverless", "memory_mb": 2048}, price, request_seconds=0.1, payload_bytes=0)

    assert instance.per_hour == pytest.approx(0.23) and instance.per_month == pytest.approx(0.23 * 730)
    assert serverless.per_hour is None and serverless.per_thousand_requests == pytest.approx(2 * 0.1 * 0.00002 * 1000)
