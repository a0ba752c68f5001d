"""The console's reach: localhost without a token, anything else only when asked and then behind a token; a form
posted without the session's key is refused. Pure pieces of the pages: run filters, the drawn definition, charts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from chalicelib.aws.model_versions import VersionRecord
from mlrelay.console.access import TOKEN_COOKIE, BindRefusedError, TokenMiddleware, access_for
from mlrelay.console.charts import metric_chart
from mlrelay.console.model_view import ApprovalRule
from mlrelay.console.pages_runs import filtered
from mlrelay.console.run_view import drawn_definition
from mlrelay.runs import RunSummary, StepRecord


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_localhost_needs_no_token_and_answers_only_its_own_names(host):
    access = access_for(host, allow_remote=False)
    assert access.token is None and "evil.example" not in access.hosts and "127.0.0.1" in access.hosts


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.org"])  # nosec B104 - the address refused
def test_another_address_is_refused_unless_asked_for_and_then_needs_a_token(host):
    with pytest.raises(BindRefusedError, match="--allow-remote"):
        access_for(host, allow_remote=False)

    access = access_for(host, allow_remote=True)
    assert access.token is not None and len(access.token) >= 32 and access.token != access.form_key
    assert access.hosts == ("*",)  # reached by whatever name the network gives the machine: the token guards it


def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("the console")


def test_the_token_is_asked_once_then_kept_in_a_cookie():
    access = access_for("0.0.0.0", allow_remote=True)  # nosec B104 - the case under test
    client = TestClient(TokenMiddleware(Starlette(routes=[Route("/", hello)]), access))

    refused = client.get("/")
    wrong = client.get("/?token=guess")
    first = client.get(f"/?token={access.token}")
    later = client.get("/")

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert "token" in refused.text
    assert first.status_code == 200 and first.text == "the console"
    assert TOKEN_COOKIE in first.headers["set-cookie"] and "HttpOnly" in first.headers["set-cookie"]
    assert later.status_code == 200


def summary(run_id: str, workflow: str, status: str, day: int) -> RunSummary:
    return RunSummary(run_id, workflow, status, datetime(2026, 12, day, 6, tzinfo=UTC), None, f"arn:{run_id}")


def test_runs_filter_by_model_workflow_status_and_dates():
    runs = [summary("train-packaging-type-1", "training", "FAILED", 1), summary("infer-packaging-type-daily-2", "inference",
            "SUCCEEDED", 2), summary("train-shipping-weight-3", "training", "SUCCEEDED", 3)]

    by_model = filtered(runs, "packaging-type", "", "", "", "")
    assert [r.run_id for r in by_model] == ["train-packaging-type-1", "infer-packaging-type-daily-2"]
    assert [r.run_id for r in filtered(runs, "", "training", "SUCCEEDED", "", "")] == ["train-shipping-weight-3"]
    assert [r.run_id for r in filtered(runs, "", "", "", "2026-12-02", "2026-12-02")] == ["infer-packaging-type-daily-2"]
    with pytest.raises(ValueError):
        filtered(runs, "", "", "", "yesterday", "")


def test_only_the_resume_branch_the_run_took_is_drawn():
    definition = {"StartAt": "StartOrResume", "States": {
        "StartOrResume": {"Type": "Choice", "Default": "Load", "Choices": [
            {"Variable": "$.resume_from", "StringEquals": "Load", "Next": "Load"},
            {"Variable": "$.resume_from", "StringEquals": "Train", "Next": "Train"}]},
        "Load": {"Type": "Pass", "Next": "Train"}, "Train": {"Type": "Pass", "End": True}}}
    at = datetime(2026, 12, 7, tzinfo=UTC)
    resumed = [StepRecord("StartOrResume", "Choice", at), StepRecord("Train", "Pass", at)]
    fresh = [StepRecord("StartOrResume", "Choice", at), StepRecord("Load", "Pass", at)]

    assert [c["Next"] for c in drawn_definition(definition, resumed)["States"]["StartOrResume"]["Choices"]] == ["Train"]
    assert [c["Next"] for c in drawn_definition(definition, fresh)["States"]["StartOrResume"]["Choices"]] == ["Load"]
    assert len(definition["States"]["StartOrResume"]["Choices"]) == 2  # the stage's own definition is left as it is


def version(number: int, status: str, f1: float) -> VersionRecord:
    scores = {"macro_f1": {"value": f1}, "accuracy": {"value": 0.9}}
    metrics = {"task": "multiclass_classification", "multiclass_classification_metrics": scores}
    return VersionRecord("m", number, status, f"run-{number}", f"arn:{number}", metrics, {}, "2026-12-07", {})


def test_the_metric_chart_draws_the_approval_metric_by_status_and_its_threshold():
    records = [version(1, "Approved", 0.81), version(2, "Rejected", 0.62), version(3, "PendingManualApproval", 0.84)]

    chart = metric_chart(records, ApprovalRule("macro_f1", 0.7, lower_is_better=False, mode="manual"), None)

    main = chart["data"][0]
    assert (main["name"], main["x"], main["y"]) == ("macro_f1", ["v1", "v2", "v3"], [0.81, 0.62, 0.84])
    assert main["marker"]["color"] == ["#039855", "#d92d20", "#dc6803"]
    assert [trace["name"] for trace in chart["data"][1:]] == ["accuracy"] and chart["data"][1]["visible"] == "legendonly"
    assert chart["layout"]["shapes"][0]["y0"] == 0.7 and "at least 0.7" in chart["layout"]["annotations"][0]["text"]


def test_a_form_posted_without_the_sessions_key_is_refused_before_anything_is_called():
    from mlrelay.console.app import create_app
    from mlrelay.console.stage import Stage
    from mlrelay.local.state_file import StackInfo

    called = []
    stage = Stage(StackInfo("", "dev", "us-east-1", {}, {}, {}), lambda service: called.append(service))
    access = replace(access_for("127.0.0.1", allow_remote=False), hosts=("testserver",))  # TestClient's host name
    client = TestClient(create_app(stage, access))

    decided = client.post("/models/m/decide", data={"action": "approve", "version": "1", "reason": "looks fine"})
    resumed = client.post("/runs/r/resume", data={"form_key": "guessed"})
    elsewhere = client.post("/runs/r/resume", data={"form_key": access.form_key}, headers={"origin": "http://evil.example"})
    rebound = client.get("/runs", headers={"host": "evil.example"})  # another site's name, pointed at 127.0.0.1

    assert (decided.status_code, resumed.status_code, elsewhere.status_code) == (403, 403, 403)
    assert "reload the page" in decided.text and "evil.example" in elsewhere.text
    assert rebound.status_code == 400
    assert called == []  # no AWS client was even made


def test_the_console_command_refuses_another_address_without_allow_remote():
    from typer.testing import CliRunner

    from mlrelay.cli.main import app

    result = CliRunner().invoke(app, ["console", "--host", "0.0.0.0"])  # nosec B104 - the address refused

    assert result.exit_code == 1
    assert "--allow-remote" in " ".join(result.output.split())


def test_a_state_entered_in_a_loop_sums_its_attempts_and_time_and_shows_its_last_outcome():
    from datetime import timedelta

    from mlrelay.console.run_view import state_views
    from mlrelay.runs import RunDetail

    at = datetime(2026, 12, 7, tzinfo=UTC)
    steps = [StepRecord("CheckLoad", "Task", at, at + timedelta(seconds=1), "succeeded", 1),
             StepRecord("CheckLoad", "Task", at, at + timedelta(seconds=2), "failed", 2, "States.Timeout", "too long")]
    detail = RunDetail(summary("run", "inference", "FAILED", 7), {}, None, None, None, steps)

    view = state_views(detail)["CheckLoad"]

    assert (view.status, view.attempts, view.seconds) == ("failed", 3, 3.0)
    assert view.detail == "States.Timeout: too long"


def test_the_monitoring_page_charts_each_features_drift_statistic_per_run_and_finds_the_models_runs():
    from mlrelay.console.monitoring_view import CheckedRun, MonitoringPage, runs_of

    def row(feature, statistic, violated):
        return {"check_type": "baseline_drift_check", "feature": feature, "statistic": statistic, "violated": violated}

    first, second = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    page = MonitoringPage("m", [CheckedRun("a", first, {}, [row("weight_g", "0.02", "0")]),
                                CheckedRun("b", second, {}, [row("weight_g", "0.4", "1"), row("material", "", "0")])])
    runs = [summary("infer-m-daily-2026-12-02", "inference", "SUCCEEDED", 2), summary("infer-m-de-daily-1", "inference", "SUCCEEDED", 1),
            summary("quality-m-abc", "inference", "SUCCEEDED", 2), summary("infer-mx-daily-1", "inference", "SUCCEEDED", 1)]

    assert page.drift_series() == {"weight_g": [(first, 0.02, False), (second, 0.4, True)]}
    assert [r.run_id for r in runs_of(runs, "m", "infer", ["m", "m-de", "mx"])] == ["infer-m-daily-2026-12-02"]
    assert [r.run_id for r in runs_of(runs, "m", "infer", ["m"])] == ["infer-m-daily-2026-12-02", "infer-m-de-daily-1"]
    assert [r.run_id for r in runs_of(runs, "m", "quality", ["m", "m-de"])] == ["quality-m-abc"]
