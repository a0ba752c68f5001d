"""The Models page, a model's page, and its Approve / Reject / Rollback buttons (`mlrelay models ...`)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route


def routes() -> list[Route]:
    return [Route("/models", models), Route("/models/{name}", model), Route("/models/{name}/decide", decide, methods=["POST"])]


def models(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of
    from mlrelay.console.model_view import model_rows

    rows, pending = model_rows(stage_of(request))
    families: dict[str, int] = {}
    for row in rows:
        if row.family:
            families[row.family] = families.get(row.family, 0) + 1
    return render(request, "models.html", rows=rows, pending=pending, families=families)


def model(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of
    from mlrelay.console.charts import metric_chart
    from mlrelay.console.model_view import lineage_text, model_page

    name = request.path_params["name"]
    page = model_page(stage_of(request), name)
    if page is None:
        return render(request, "missing.html", 404, what=f"no model or family named {name!r}", back="/models")
    if not page.records:
        return render(request, "family.html", page=page)
    primary = page.records[-1].decision.get("primary_metric")
    chart = metric_chart(page.records, page.rule, primary)
    lineage = {record.version: lineage_text(record) for record in page.records[-10:]}  # the newest ten: one tree each
    return render(request, "model.html", page=page, chart=chart, lineage=lineage)


async def decide(request: Request) -> Response:
    """`mlrelay models approve|reject NAME VERSION --reason` and `rollback NAME [--to VERSION] --reason`: the same call,
    as the operator's own identity."""
    from mlrelay.console.app import checked_form, stage_of
    from mlrelay.operator_actions import ActionRefusedError
    from mlrelay.operator_actions import decide as decide_version

    stage, name = stage_of(request), request.path_params["name"]
    form = await checked_form(request)
    action, reason = str(form.get("action", "")), str(form.get("reason", ""))
    version_text = str(form.get("version", "")).strip()
    back = f"/models/{quote(name)}"
    if version_text and not version_text.isdigit():
        return RedirectResponse(f"{back}?problem={quote(f'version {version_text!r} is not a number')}", status_code=303)
    version = int(version_text) if version_text else None
    try:
        decided = await run_in_threadpool(decide_version, stage.info, stage.client, action, name, version, reason)
    except ActionRefusedError as err:
        return RedirectResponse(f"{back}?problem={quote(str(err))}", status_code=303)
    return RedirectResponse(f"{back}?done={quote(decided.message)}", status_code=303)
