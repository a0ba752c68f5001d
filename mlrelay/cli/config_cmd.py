"""`mlrelay config validate|schema`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlrelay.cli.output import console, fail

app = typer.Typer(help="Check model config files before dropping them in S3.", no_args_is_help=True)


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Config files (*.json, *.yaml, *.yml) to check.", exists=False),
) -> None:
    """Check config files exactly as the S3 trigger will; print every problem with its field path."""
    from rich.table import Table

    from chalicelib.config.parsing import ConfigError
    from chalicelib.config.schema import UserCode
    from mlrelay.submission import check

    bad = 0
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file", code=2)
        try:
            config, bundle = check(path)
        except ConfigError as err:
            bad += 1
            console.print(f"[red]✗[/] {path}: {len(err.problems)} problem(s)")
            table = Table("field", "problem", box=None, padding=(0, 2))
            for problem in err.problems:
                table.add_row(problem.path or "(file)", problem.message)
            console.print(table)
            continue
        model = f"{config.model.framework} code" if isinstance(config.model, UserCode) else config.model.type
        code = f", code {len(bundle.files)} files ({bundle.digest[:12]})" if bundle else ""
        console.print(f"[green]✓[/] {path}: model {config.model_name!r} ({config.task}, {model}, judged on {config.metric}{code})")
    if bad:
        raise typer.Exit(1)


@app.command()
def schema(output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.")) -> None:
    """Print the config's JSON Schema (point your editor at it for completion and checks)."""
    from chalicelib.config.schema import ModelConfig

    document = json.dumps(ModelConfig.model_json_schema(), indent=2)
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n")
        console.print(f"wrote {output}")
