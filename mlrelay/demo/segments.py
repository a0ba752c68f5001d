"""The demo's model family: one config, a model per country, trained in parallel, one notice for the run."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from chalicelib.aws.model_versions import ModelVersions
from chalicelib.shared.naming import training_run_id
from mlrelay.demo.checks import Checks, finished_run, titles_about
from mlrelay.demo.sections import DATA_BUCKET, EXAMPLES
from mlrelay.local.stack import PROJECT_ROOT, EmbeddedStack
from mlrelay.synthetic import synthesize

CONFIG = EXAMPLES / "packaging-by-country.json"
FAMILY = "packaging-by-country"
TABLE_KEY = "catalogue/countries.csv"
# Label noise per country: Poland's packing records are mostly guesses, so its model cannot pass the floor.
COUNTRIES = {"DE": 0.02, "FR": 0.02, "NL": 0.03, "ES": 0.02, "IT": 0.04, "SE": 0.02, "PL": 0.7}
ROWS_PER_COUNTRY = 400


def model_family(console: Console, checks: Checks, stack: EmbeddedStack) -> None:
    bucket, s3 = stack.info.outputs["ConfigBucketName"], stack.client("s3")
    table = pd.concat([synthesize(ROWS_PER_COUNTRY, seed=30 + i, label_noise=noise).assign(country=country)
                       for i, (country, noise) in enumerate(COUNTRIES.items())])
    s3.put_object(Bucket=DATA_BUCKET, Key=TABLE_KEY, Body=table.to_csv(index=False).encode())
    key = f"configs/train/{FAMILY}.json"
    console.print(f"\n[bold]11. One model per country[/]: {CONFIG.relative_to(PROJECT_ROOT)} (segments by country, 4 at a "
                  f"time) → s3://{bucket}/{key}; {len(COUNTRIES)} countries of {ROWS_PER_COUNTRY} items in s3://{DATA_BUCKET}/{TABLE_KEY}")
    put = s3.put_object(Bucket=bucket, Key=key, Body=CONFIG.read_bytes())
    run_id = training_run_id(bucket, key, put.get("VersionId"), put["ETag"])
    detail = finished_run(stack.client("stepfunctions"), stack.info.state_machines, run_id, timeout_seconds=300)
    if not checks.check(detail is not None and detail.summary.status == "SUCCEEDED",
                        f"family run {run_id} {detail.summary.status if detail else 'never finished'}: "
                        f"{len(COUNTRIES)} training runs, each a child execution of its own"):
        return
    versions = ModelVersions(stack.info.outputs["ModelsTableName"], stack.client("dynamodb"))
    shown = Table("country", "model", "decision", "why", box=None, padding=(0, 2))
    statuses = {}
    for country in COUNTRIES:
        model = f"{FAMILY}-{country.lower()}"
        records = versions.versions(model)
        statuses[country] = records[-1].status if records else "none"
        reasons = records[-1].decision.get("reasons", []) if records else []
        shown.add_row(country, model, f"v{records[-1].version} {statuses[country]}" if records else "none",
                      next((r for r in reasons if r.startswith("✗")), reasons[0] if reasons else ""))
    console.print(shown)
    approved = [c for c, s in statuses.items() if s == "Approved"]
    checks.check(len(approved) == len(COUNTRIES) - 1 and statuses["PL"] == "Rejected",
                 f"{len(approved)} countries approved, PL rejected against its own floor; each has its own registry group")
    posts = titles_about(stack, run_id)
    checks.check(len(posts) == 1, f"one notice for the run: {'; '.join(posts) or 'none'}")
