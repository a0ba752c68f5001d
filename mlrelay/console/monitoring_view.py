"""What the Monitoring page shows for a model: each checked inference run's drift per feature (the Monitor step's
rows.csv), its latest violations and SHAP ranking, and the model's quality measured from labels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.config.metrics import metric_values
from mlrelay.console.stage import Stage
from mlrelay.monitoring_results import NoResultsError, check_rows, quality, summary
from mlrelay.runs import RunSummary, list_runs

MAX_RUNS_CHARTED = 60  # two months of daily runs: each is two S3 reads
READERS = 8
INFERENCE = "InferenceStateMachine"  # the workflow whose runs are checked and judged: only its runs are listed


@dataclass(frozen=True)
class CheckedRun:
    run_id: str
    started: datetime
    summary: dict[str, Any]
    rows: list[dict[str, str]]


@dataclass(frozen=True)
class QualityPoint:
    run_id: str
    started: datetime
    metrics: dict[str, float]


@dataclass
class MonitoringPage:
    model_name: str
    checked: list[CheckedRun] = field(default_factory=list)  # oldest first
    quality: list[QualityPoint] = field(default_factory=list)

    @property
    def latest(self) -> CheckedRun | None:
        return self.checked[-1] if self.checked else None

    def drift_series(self) -> dict[str, list[tuple[datetime, float, bool]]]:
        """Per feature, each run's drift statistic (the test's own: PSI, KS or chi-squared distance) and verdict."""
        series: dict[str, list[tuple[datetime, float, bool]]] = {}
        for run in self.checked:
            for row in run.rows:
                if row["check_type"] == "baseline_drift_check" and row["statistic"]:
                    series.setdefault(row["feature"], []).append((run.started, float(row["statistic"]), row["violated"] == "1"))
        return series


def runs_of(runs: list[RunSummary], model_name: str, prefix: str, other_models: list[str]) -> list[RunSummary]:
    """The runs whose id names the model (`infer-<model>-...`, `quality-<model>-...`), newest first; not those of a
    longer model name that starts the same (a family's `<model>-de`)."""
    longer = [f"{prefix}-{other}-" for other in other_models if other.startswith(f"{model_name}-")]
    return [run for run in runs if run.run_id.startswith(f"{prefix}-{model_name}-") and not run.run_id.startswith(tuple(longer))]


def monitoring_page(stage: Stage, model_name: str) -> MonitoringPage:
    from mlrelay.console.model_view import versions_of

    s3, bucket = stage.client("s3"), stage.info.outputs["ConfigBucketName"]
    with ThreadPoolExecutor(max_workers=READERS) as pool:  # the reads are independent: S3 answers them side by side
        inference = {logical_id: arn for logical_id, arn in stage.info.state_machines.items() if logical_id == INFERENCE}
        listed = pool.submit(list_runs, stage.client("stepfunctions"), inference)
        names = pool.submit(versions_of(stage).model_names)
        runs = listed.result()
        checked = runs_of(runs, model_name, "infer", names.result())[:MAX_RUNS_CHARTED]
        quality_runs = runs_of(runs, model_name, "quality", names.result())[:MAX_RUNS_CHARTED]
        found = list(pool.map(lambda run: _checked(s3, bucket, model_name, run), checked))
        measured = list(pool.map(lambda run: _quality(s3, bucket, model_name, run), quality_runs))
    page = MonitoringPage(model_name)
    page.checked = [run for run in reversed(found) if run is not None]
    page.quality = [point for point in reversed(measured) if point is not None]
    return page


def _checked(s3: Any, bucket: str, model_name: str, run: RunSummary) -> CheckedRun | None:
    try:
        return CheckedRun(run.run_id, run.started, summary(s3, bucket, model_name, run.run_id),
                          check_rows(s3, bucket, model_name, run.run_id))
    except NoResultsError:
        return None  # it failed before its Monitor step


def _quality(s3: Any, bucket: str, model_name: str, run: RunSummary) -> QualityPoint | None:
    try:
        measured = quality(s3, bucket, model_name, run.run_id)
    except NoResultsError:
        return None
    return QualityPoint(run.run_id, run.started, {name: float(value) for name, value in metric_values(measured).items()
                                                  if value is not None})
