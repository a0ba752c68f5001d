"""GIVEN the stack after a story of runs (a version waiting for approval, a run that failed in the user's Split
step, an inference run whose catalogue drifted), WHEN a person uses the console in a real browser (Playwright
driving Debian's Chromium), THEN each page shows them, and Approve and Resume leave the registry and the run history
as `mlrelay models approve` and `mlrelay runs resume` would. Each page's screenshot is written to docs/console/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from chalicelib.shared.naming import execution_name, on_demand_run_id, upload_identity
from mlrelay.console.access import access_for
from mlrelay.console.app import create_app
from mlrelay.console.server import serving_in_background
from mlrelay.console.stage import Stage
from mlrelay.resume_client import wait_for_execution
from mlrelay.runs import show_run
from mlrelay.warehouse_client import connection_from, run_statement
from tests.conftest import ROOT, valid_config
from tests.functional.conftest import DATA_BUCKET, DRIFTED_URI, LABELS_URI, ONE_CLASS_CAUSE, ONE_CLASS_URI

pytestmark = pytest.mark.functional
playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("MLRELAY_CHROMIUM", "/usr/bin/chromium")
# As root and on a closed network: no sandbox, and none of Chromium's own calls home (each would be refused).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "console"
PENDING, BROKEN, DRIFTING = "console-pt", "console-broken", "console-drift"
TRAINING_URI, NOISY_URI = f"s3://{DATA_BUCKET}/catalogue/train.csv", f"s3://{DATA_BUCKET}/catalogue/train-noisy.csv"
MANUAL = {"metric": "macro_f1", "threshold": 0.5, "max_regression": 0.5, "mode": "manual"}


@pytest.fixture(scope="module")
def story(aws):
    """The runs the pages show, each waited for."""
    table = PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=create_table_sqls(table))
    aws.drop_training_config(PENDING, approval=MANUAL)
    aws.drop_training_config(DRIFTING)
    aws.runs(f"train-{DRIFTING}-", timeout=180)  # v1 approved before v2 is judged against it
    noisy = valid_config(model_name=DRIFTING, inference={"daily": False, "monthly": False})  # v2: worse, so rejected
    noisy["data"] = {**noisy["data"], "uri": NOISY_URI}
    aws.drop(f"configs/train/{DRIFTING}.json", json.dumps(noisy).encode())
    broken = valid_config(model_name=BROKEN, inference={"daily": False, "monthly": False})
    for split in (0.2, 0.25):  # the same failure twice: one alert, its count 2
        broken["data"] = {**broken["data"], "uri": ONE_CLASS_URI, "validation_split": split}
        aws.drop(f"configs/train/{BROKEN}.json", json.dumps(broken).encode())
        aws.stack.wait_idle()
    failed, again = sorted(aws.runs(f"train-{BROKEN}-", timeout=180), key=lambda run: run["startDate"])
    trained = [run for model in (PENDING, DRIFTING) for run in aws.runs(f"train-{model}-", timeout=180)]
    assert [run["status"] for run in trained] == ["SUCCEEDED"] * 3, trained
    checked = [predict(aws, catalogue) for catalogue in (TRAINING_URI, DRIFTED_URI)]  # a clean day, then a drifted one
    labels = aws.s3.get_object(Bucket=DATA_BUCKET, Key=LABELS_URI.split("/", 3)[3])["Body"].read()
    key = f"labels/{DRIFTING}/week-1.csv"
    put = aws.drop(key, labels)  # the clean day's items, labelled: the model's quality measured
    (quality,) = aws.runs(execution_name("quality", DRIFTING, aws.bucket, key, upload_identity(put["VersionId"], put["ETag"])),
                          machine="inference", timeout=180)
    aws.stack.wait_idle()
    runs = [*checked, quality]
    assert [failed["status"], again["status"]] == ["FAILED"] * 2, (failed, again)
    assert [run["status"] for run in runs] == ["SUCCEEDED"] * 3, runs
    return {"failed": failed["name"], "again": again["name"], "drifted": checked[-1]["name"]}


def predict(aws, catalogue_uri):
    key = f"configs/infer/{DRIFTING}-{catalogue_uri.rsplit('/', 1)[-1]}.json"
    put = aws.drop(key, json.dumps({"schema_version": 1, "model_name": DRIFTING, "catalogue_uri": catalogue_uri}).encode())
    (run,) = aws.runs(on_demand_run_id(DRIFTING, aws.bucket, key, put["VersionId"]), machine="inference", timeout=180)
    return run


@pytest.fixture(scope="module")
def console_url(stack):
    app = create_app(Stage(stack.info, stack.client), access_for("127.0.0.1", allow_remote=False))
    with serving_in_background(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's (apt-get install chromium)")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page's scripts failed: {errors}"


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_runs_page_lists_every_run_newest_first_and_filters_them(story, console_url, page):
    page.goto(f"{console_url}runs")
    rows = page.locator("#runs tbody tr")
    shown = rows.evaluate_all("rows => rows.map(row => row.dataset.run)")
    assert story["failed"] in shown and story["drifted"] in shown
    assert page.locator(f'tr[data-run="{story["failed"]}"] .status').inner_text() == "FAILED"
    screenshot(page, "runs")

    page.fill("input[name=model]", BROKEN)
    page.select_option("select[name=status]", "FAILED")
    page.click("button[type=submit]")
    filtered = page.locator("#runs tbody tr").evaluate_all("rows => rows.map(row => row.dataset.run)")
    assert filtered == [story["again"], story["failed"]]


def test_a_failed_run_is_drawn_with_the_failed_step_highlighted_its_cause_and_its_log(story, console_url, page):
    page.goto(f"{console_url}runs/{story['failed']}")

    highlighted = page.locator("#graph g.state.highlight")
    assert highlighted.count() == 1
    assert highlighted.get_attribute("data-state") == "WaitForTrainingPipeline"
    assert page.locator('#graph g.state[data-state="LoadTrainingConfig"]').get_attribute("data-status") == "succeeded"
    assert ONE_CLASS_CAUSE in page.locator("#failure").inner_text()
    assert "Failed" in page.locator("#pipeline-steps").inner_text()  # the Split step, inside the wait
    assert "package_type has 1" in page.locator("#log").inner_text()  # the user's own script said so
    assert f"mlrelay runs resume {story['failed']}" in page.locator("#failure").inner_text()
    assert "about $" in page.locator("#cost").inner_text().lower()
    screenshot(page, "run-failed")


def test_the_models_pages_chart_the_metric_across_versions_with_its_threshold(story, console_url, page):
    page.goto(f"{console_url}models")
    assert PENDING in page.locator("#pending").inner_text()
    screenshot(page, "models")

    page.goto(f"{console_url}models/{DRIFTING}")
    page.wait_for_selector("#metric-chart .main-svg")
    chart = page.locator("#metric-chart").inner_text()
    assert "threshold" in chart  # the approval rule's line is drawn and named
    assert [page.locator(f"#version-{n}").get_attribute("data-status") for n in (1, 2)] == ["Approved", "Rejected"]
    assert "table s3://" in page.locator("pre.tree").first.text_content()  # lineage: the exact table it came from
    screenshot(page, "model")


def test_the_monitoring_page_charts_drift_and_shows_the_violations_and_the_report(story, console_url, page):
    page.goto(f"{console_url}monitoring/{DRIFTING}")
    page.wait_for_selector("#drift-chart .main-svg")
    assert story["drifted"] in page.locator("#latest").inner_text()
    assert "violated" in page.locator("#violations").inner_text()
    report = page.frame_locator("iframe.report").locator("body")
    assert "height_cm" in report.inner_text()  # the Monitor step's own HTML, inside the page
    page.wait_for_selector("#quality-chart .main-svg")  # the labels' verdict, charted
    assert "macro_f1" in page.locator("#quality").inner_text()
    page.locator("iframe.report").scroll_into_view_if_needed()  # a sandboxed frame is drawn once it is in view
    screenshot(page, "monitoring")


def test_the_alerts_page_shows_what_was_sent_and_folds_a_storm_into_one_alert_with_its_count(story, console_url, page):
    page.goto(f"{console_url}alerts")

    storm = page.locator("#alerts tbody tr", has_text=story["failed"])
    assert storm.count() == 1 and story["again"] in storm.inner_text()  # both failed runs, one alert
    assert "folded ×2" in storm.inner_text()
    storm.locator("summary").click()
    told = storm.locator("pre").inner_text()  # the last post: the first failure's, or the one naming the run folded since
    assert f"mlrelay runs resume {story['failed']}" in told or f"mlrelay runs resume {story['again']}" in told
    drift = page.locator("#alerts tbody tr", has_text=f"{DRIFTING} v1: 5 violation(s)")
    assert drift.count() == 1 and "slack" in drift.inner_text()
    screenshot(page, "alerts")


def test_approve_in_the_browser_approves_the_version_as_the_cli_would(story, aws, console_url, page):
    page.goto(f"{console_url}models/{PENDING}")
    row = page.locator("#version-1")
    row.locator("form:has(#approve-1) input[name=reason]").fill("checked the confusion matrix in the console")
    row.locator("#approve-1").click()
    page.wait_for_selector(".notice.done")

    versions = ModelVersions(aws.stack.info.outputs["ModelsTableName"], aws.dynamodb)
    approved = versions.approved(PENDING)
    assert approved is not None and approved.version == 1
    last = versions.version(PENDING, 1).history[-1]
    assert (last["action"], last["to"], last["reason"]) == ("approve", "Approved", "checked the confusion matrix in the console")
    assert last["actor"] == aws.stack.client("sts").get_caller_identity()["Arn"]
    registry = aws.stack.client("sagemaker").describe_model_package(ModelPackageName=approved.model_package_arn)
    assert registry["ModelApprovalStatus"] == "Approved"
    assert page.locator("#version-1").get_attribute("data-status") == "Approved"


def test_resume_with_a_fixed_config_in_the_browser_resumes_the_run_as_the_cli_would(story, aws, stack, console_url, page, tmp_path):
    fixed = tmp_path / f"{BROKEN}.json"
    fixed.write_text(json.dumps(valid_config(model_name=BROKEN, inference={"daily": False, "monthly": False})))
    page.goto(f"{console_url}runs/{story['failed']}")
    page.set_input_files("input[name=config]", str(fixed))
    page.click("#resume")
    page.wait_for_selector(".notice.done")
    page.goto("about:blank")  # the running run's page reloads itself every 5 s: a reload would cut the next goto short

    detail = show_run(aws.sfn, stack.info.state_machines, story["failed"])
    assert wait_for_execution(aws.sfn, detail.summary.execution_arn, timeout_seconds=180) == "SUCCEEDED"
    stack.wait_idle()
    detail = show_run(aws.sfn, stack.info.state_machines, story["failed"])
    assert detail.summary.attempts == 2 and detail.summary.status == "SUCCEEDED"
    assert detail.input["config"]["key"].endswith(".json") and "resume-configs" in detail.input["config"]["key"]
    assert ModelVersions(stack.info.outputs["ModelsTableName"], aws.dynamodb).version(BROKEN, 1) is not None
    page.goto(f"{console_url}runs/{story['failed']}")
    assert page.locator("#run-status").inner_text() == "SUCCEEDED"
    assert page.locator("#graph g.state.highlight").count() == 0
    screenshot(page, "run-resumed")
