"""The Monitoring pages (what `mlrelay monitor show` prints, across a model's runs) and the Alerts page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mlrelay.monitoring_results import NoResultsError

# The report is the Monitor step's own HTML: shown in a sandboxed frame, it may run no script and reach nothing.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def routes() -> list[Route]:
    return [Route("/monitoring", overview), Route("/monitoring/{name}", model_monitoring),
            Route("/monitoring/{name}/{run_id}/report", report), Route("/alerts", alerts)]


def overview(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of
    from mlrelay.console.model_view import model_rows

    rows, _ = model_rows(stage_of(request))
    return render(request, "monitoring_index.html", rows=rows)


def model_monitoring(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of
    from mlrelay.console.charts import drift_chart, quality_chart
    from mlrelay.console.model_view import versions_of
    from mlrelay.console.monitoring_view import monitoring_page

    name = request.path_params["name"]
    page = monitoring_page(stage_of(request), name)
    quality = None
    if page.quality:
        approved = versions_of(stage_of(request)).approved(name)  # labels are judged on the approval metric
        metric = approved.decision.get("primary_metric", "") if approved else ""
        if metric not in page.quality[-1].metrics:
            metric = next(iter(page.quality[-1].metrics), "")
        quality = {"metric": metric, "chart": quality_chart(
            [(point.started, point.metrics[metric]) for point in page.quality if metric in point.metrics], metric)}
    return render(request, "monitoring.html", page=page, drift=drift_chart(page.drift_series()), quality=quality)


def report(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of
    from mlrelay.monitoring_results import report_html

    stage = stage_of(request)
    name, run_id = request.path_params["name"], request.path_params["run_id"]
    try:
        body = report_html(stage.client("s3"), stage.info.outputs["ConfigBucketName"], name, run_id)
    except NoResultsError as err:
        return render(request, "missing.html", 404, what=f"no monitoring report for {run_id}: {err}", back=f"/monitoring/{name}")
    return Response(body, media_type="text/html", headers={"Content-Security-Policy": REPORT_POLICY})


def alerts(request: Request) -> Response:
    from chalicelib.aws.alert_ledger import AlertLedger
    from mlrelay.console.app import render, stage_of

    stage = stage_of(request)
    table = stage.info.outputs.get("AlertsTableName")
    if not table:
        return render(request, "alerts.html", sent=[], problem="this stage's stack has no AlertsTableName output: "
                      "deploy this version of mlrelay to it (`make deploy`)")
    return render(request, "alerts.html", sent=AlertLedger(table, stage.client("dynamodb")).recent())
