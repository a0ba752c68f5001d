"""The Runs page, a run's page, and its Resume button (what `mlrelay runs list|show|resume` do)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mlrelay.console.graph import render_svg
from mlrelay.console.stage import Stage
from mlrelay.operator_actions import ActionRefusedError, Resumed
from mlrelay.operator_actions import resume as request_resume
from mlrelay.runs import RunNotFoundError, RunSummary, list_runs

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "INTERRUPTED")
MAX_CONFIG_UPLOAD = 1024 * 1024  # chalicelib/config/parsing.py refuses a bigger config anyway


def routes() -> list[Route]:
    return [Route("/runs", runs), Route("/runs/{run_id}", run), Route("/runs/{run_id}/resume", resume, methods=["POST"])]


def filtered(found: list[RunSummary], model: str, workflow: str, status: str, since: str, until: str) -> list[RunSummary]:
    """The runs the filters leave: a model by its name in the run id (every run id names its model or config)."""
    start = date.fromisoformat(since) if since else None
    end = date.fromisoformat(until) if until else None
    return [run for run in found
            if (not model or model in run.run_id) and (not workflow or run.workflow == workflow)
            and (not status or run.status == status)
            and (start is None or run.started.date() >= start) and (end is None or run.started.date() <= end)]


def runs(request: Request) -> Response:
    from mlrelay.console.app import render, stage_of

    stage = stage_of(request)
    query = {name: request.query_params.get(name, "").strip() for name in ("model", "workflow", "status", "since", "until")}
    found = list_runs(stage.client("stepfunctions"), stage.info.state_machines)
    try:
        shown = filtered(found, **query)
    except ValueError:
        return render(request, "runs.html", 400, runs=[], query=query, workflows=[], statuses=STATUSES, total=len(found),
                      problem="a date is YYYY-MM-DD")
    workflows = sorted({run.workflow for run in found})
    return render(request, "runs.html", runs=shown, query=query, workflows=workflows, statuses=STATUSES, total=len(found),
                  live=any(run.status == "RUNNING" for run in shown))


def run(request: Request) -> Response:
    from mlrelay.cli.runs_cmd import run_facts
    from mlrelay.console.app import render, stage_of
    from mlrelay.console.run_view import run_page

    stage, run_id = stage_of(request), request.path_params["run_id"]
    try:
        page = run_page(stage, run_id)
    except RunNotFoundError as err:
        return render(request, "missing.html", 404, what=str(err), back="/runs")
    highlight = page.failed.name if page.failed else None
    graph = render_svg(page.definition, page.views, highlight=highlight)
    return render(request, "run.html", page=page, graph=graph, facts=run_facts(page.detail.input),
                  live=page.detail.summary.status == "RUNNING")


async def resume(request: Request) -> Response:
    """`mlrelay runs resume RUN [--with-config FILE]`: the same call; an uploaded config is checked and uploaded as the
    CLI does a file (a config whose code is a folder beside it needs the CLI, which packs the folder)."""
    from mlrelay.console.app import checked_form, stage_of

    stage, run_id = stage_of(request), request.path_params["run_id"]
    form = await checked_form(request)
    upload = form.get("config")
    back = f"/runs/{quote(run_id)}"
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            body = await upload.read(MAX_CONFIG_UPLOAD + 1)
            resumed = await run_in_threadpool(_resume_with, stage, run_id, upload.filename, body)
        else:
            resumed = await run_in_threadpool(request_resume, stage.info, stage.client, run_id, None)
    except ActionRefusedError as err:
        return RedirectResponse(f"{back}?problem={quote(str(err))}", status_code=303)
    return RedirectResponse(f"{back}?done={quote(resumed.message)}", status_code=303)


def _resume_with(stage: Stage, run_id: str, filename: str, body: bytes) -> Resumed:
    """The uploaded file as `--with-config FILE`. A config naming a code folder is refused: the folder would be read on
    this machine, where only the CLI's user chooses what is packed."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.aws.errors import AwsError
    from chalicelib.config.parsing import CONFIG_SUFFIXES, ConfigError, load_document

    suffix = next((s for s in CONFIG_SUFFIXES if filename.lower().endswith(s)), None)
    if suffix is None:
        raise ActionRefusedError(f"{filename}: a config is a .json, .yaml or .yml file")
    if len(body) > MAX_CONFIG_UPLOAD:
        raise ActionRefusedError(f"{filename} is over {MAX_CONFIG_UPLOAD:,} bytes: a config is far smaller")
    try:
        document = load_document(body, filename)
    except ConfigError as err:
        raise ActionRefusedError(f"{filename} is not a valid config, so the run was not resumed: {err}") from err
    if isinstance(document.get("model"), dict) and document["model"].get("source_dir"):
        raise ActionRefusedError(f"{filename} names a code folder (model.source_dir): resume with the CLI, which packs "
                                 f"it from your machine: {stage.command(f'runs resume {run_id} --with-config FOLDER')}")
    with tempfile.TemporaryDirectory(prefix="mlrelay-console-") as folder:
        path = Path(folder) / f"config{suffix}"  # not the uploaded name: it could name a path
        path.write_bytes(body)
        try:
            return request_resume(stage.info, stage.client, run_id, path)
        except (AwsError, BotoCoreError, ClientError) as err:
            raise ActionRefusedError(f"the fixed config could not be uploaded, so the run was not resumed: {err}") from err
