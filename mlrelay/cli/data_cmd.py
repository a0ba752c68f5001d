"""`mlrelay data synth`: a labelled synthetic catalogue for trying mlrelay out."""

from __future__ import annotations

from pathlib import Path

import typer

from mlrelay.cli.output import console, fail

app = typer.Typer(help="Demo data: a synthetic product catalogue labelled with package types.", no_args_is_help=True)


@app.command()
def synth(
    output: Path = typer.Option(Path("catalogue.csv"), "--output", "-o", help="CSV file to write."),
    rows: int = typer.Option(5000, min=1, help="Number of items."),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same table."),
    label_noise: float = typer.Option(0.02, min=0.0, max=1.0, help="Share of rows given a random label."),
    drift: str = typer.Option("none", help="Population shift: none, size (larger items) or mix (category mix)."),
    start: str = typer.Option("2026-01-01", help="First date items are added (added_at)."),
    days: int = typer.Option(365, min=1, help="Items are added over this many days."),
) -> None:
    """Write a catalogue with learnable structure: dimensions, weight, fragility, material, category, price."""
    from datetime import date

    from mlrelay.synthetic import DRIFTS, synthesize, write

    if drift not in DRIFTS:
        fail(f"--drift must be one of {', '.join(DRIFTS)} (got {drift!r})", code=2)
    if output.suffix != ".csv":
        fail(f"{output}: only CSV is written (Parquet would need pyarrow); name the file *.csv", code=2)
    try:
        first_day = date.fromisoformat(start)
    except ValueError as err:
        fail(f"--start must be a date like 2026-01-01 ({err})", code=2)
    frame = synthesize(rows, seed=seed, label_noise=label_noise, drift=drift, start=first_day, days=days)
    write(frame, output)
    mix = ", ".join(f"{k} {v:.0%}" for k, v in frame["package_type"].value_counts(normalize=True).items())
    console.print(f"wrote {output}: {len(frame):,} items; labels {mix}")
