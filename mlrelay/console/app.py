"""The console's ASGI app (Starlette): server-rendered pages over a Stage, the same reads and actions as the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from mlrelay.console import pages_models, pages_monitoring, pages_runs
from mlrelay.console.access import Access, TokenMiddleware
from mlrelay.console.stage import Stage
from mlrelay.monitoring_results import CHECK_NAMES

HERE = Path(__file__).parent


def plotly_js() -> Path:
    """plotly.js as the plotly package ships it: the charts need no network."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(stage: Stage, access: Access) -> ASGIApp:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(stage=stage, form_key=access.form_key, command=stage.command)
    templates.env.filters["duration"] = _duration
    templates.env.filters["timestamp"] = lambda seconds: datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    templates.env.filters["number"] = lambda text: f"{float(text):.4g}" if text else ""
    templates.env.globals["check_names"] = CHECK_NAMES
    routes = [
        Route("/", lambda request: RedirectResponse("/runs")),
        *pages_runs.routes(), *pages_models.routes(), *pages_monitoring.routes(),
        Route("/static/plotly.min.js", lambda request: FileResponse(plotly_js(), media_type="text/javascript")),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(access.hosts))])
    app.state.stage, app.state.access, app.state.templates = stage, access, templates
    return TokenMiddleware(app, access)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    page = {"message": request.query_params.get("done", ""), "problem": request.query_params.get("problem", ""), **context}
    return request.app.state.templates.TemplateResponse(request, template, page, status_code=status_code)


def stage_of(request: Request) -> Stage:
    stage: Stage = request.app.state.stage
    return stage


async def checked_form(request: Request) -> Any:
    """The posted form, refused unless it comes from the console's own page: its origin, and the session's form key."""
    from urllib.parse import urlsplit

    from starlette.exceptions import HTTPException

    from mlrelay.console.access import same

    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, f"a form posted from {origin} is refused: use the console's own page")
    form = await request.form()
    access: Access = request.app.state.access
    if not same(str(form.get("form_key", "")), access.form_key):
        raise HTTPException(403, "this form is not from this console session: reload the page and try again")
    return form


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
