"""`mlrelay pipelines build`: the SageMaker pipeline definitions, as JSON."""

from __future__ import annotations

import typer

from mlrelay.cli.output import console, fail

app = typer.Typer(help="SageMaker pipeline definitions (build time; needs requirements-pipelines.txt).", no_args_is_help=True)


@app.command()
def build() -> None:
    """Build pipelines/*.pipeline.json with the SageMaker SDK, offline, and report what changed."""
    try:
        from mlrelay.pipeline_builder.build import DEFINITIONS_DIR, build_definitions
        from mlrelay.pipeline_builder.images import IMAGES_FILE, build_image_table
    except ImportError as err:
        fail(f"the SageMaker SDK is not installed ({err}); run `make pipelines` or "
             "`pip install -r requirements-pipelines.txt`")
    before = {p.name: p.read_text() for p in DEFINITIONS_DIR.glob("*.pipeline.json")}
    before[IMAGES_FILE.name] = IMAGES_FILE.read_text() if IMAGES_FILE.exists() else ""
    with console.status("building pipeline definitions and the image table with the SageMaker SDK…"):
        written = build_definitions()
        written["framework images"] = build_image_table()
    for name, path in written.items():
        changed = "unchanged" if before.get(path.name) == path.read_text() else "updated"
        console.print(f"[green]✓[/] {name}: {path} ({changed})")
