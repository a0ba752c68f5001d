"""The Monitor step's time for 4,000 and 1,000,000 items, beside the Prepare step on the same catalogue, and what
per-prediction explanations (monitoring.explain_predictions: 3) add: explaining every item, and the default sample
(monitoring.explain_max_items).

Both scripts run as their processing jobs run them: a fresh interpreter, files
in, files out. The baseline is a 4,000-row training table (statistics,
constraints and attributions made by the Evaluate step's own functions); the
catalogue is synthetic, with larger items than the training table (drift
"size"), so the drift tests and the report have something to say. Prepare is
the baseline figure: it reads the same catalogue and writes the items the
Monitor step then reads.

    .venv/bin/python benchmarks/monitoring_time.py [--rows 4000 1000000] [--no-explain-all]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "pipelines" / "scripts"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import attribution  # noqa: E402
import data_profile  # noqa: E402

from chalicelib.config.schema import MonitoringSettings  # noqa: E402
from mlrelay.synthetic import FEATURE_COLUMNS, synthesize  # noqa: E402

FEATURES = list(FEATURE_COLUMNS)
SETTINGS = MonitoringSettings().resolved()


def write_baseline(directory: Path) -> None:
    train = synthesize(4000, seed=1)
    statistics = data_profile.statistics(train, FEATURES)
    constraints = data_profile.constraints(statistics, data_profile.monitoring_config(SETTINGS))
    importance = attribution.global_importance(
        train, list(train["package_type"]), "multiclass_classification", FEATURES, data_profile.domains(constraints), 1000,
    )
    background = attribution.background_summary(train, FEATURES, data_profile.domains(constraints))
    directory.mkdir()
    for name, document in (("statistics", statistics), ("constraints", constraints), ("attributions", importance),
                           ("shap_background", background)):
        (directory / f"{name}.json").write_text(json.dumps(data_profile.finite(document)))


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(rows: int, work: Path) -> tuple[float, float, dict]:
    """(Prepare's seconds, Monitor's seconds without explanations, its summary)."""
    catalogue = synthesize(rows, seed=2, drift="size")
    (work / "catalogue").mkdir()
    catalogue.to_csv(work / "catalogue" / "catalogue.csv", index=False)
    spec = {"task": "multiclass_classification", "feature_columns": FEATURES, "id_column": "item_id", "added_at_column": "added_at",
            "mode": "monthly", "since": "", "until": "", "rows_per_file": 50_000, "run_id": "infer-bench", "model_name": "bench",
            "model_version": 1, "monitoring": SETTINGS}
    (work / "spec").mkdir()
    (work / "spec" / "spec.json").write_text(json.dumps(spec))
    prepare = timed([
        sys.executable, str(SCRIPTS / "prepare_inference.py"), "--input", str(work / "catalogue"), "--spec", str(work / "spec"),
        "--items", str(work / "items"), "--ids", str(work / "ids"), "--selection", str(work / "selection"),
    ])
    (work / "predictions").mkdir()
    labels = iter(catalogue["package_type"])
    for part in sorted((work / "items").glob("*.csv")):
        count = sum(1 for _ in part.open())
        lines = "".join(json.dumps({"label": next(labels)}) + "\n" for _ in range(count))
        (work / "predictions" / f"{part.name}.out").write_text(lines)
    monitor, summary = run_monitor(work, spec, "monitoring")
    return prepare, monitor, summary


def run_monitor(work: Path, spec: dict, name: str, **monitoring: int) -> tuple[float, dict]:
    """The Monitor step as its job runs it, with `monitoring` settings over the defaults; (seconds, monitoring.json)."""
    folder = work / f"spec-{name}"
    folder.mkdir()
    (folder / "spec.json").write_text(json.dumps({**spec, "monitoring": {**SETTINGS, **monitoring}}))
    seconds = timed([
        sys.executable, str(SCRIPTS / "monitor.py"), "--items", str(work / "items"), "--selection", str(work / "selection"),
        "--ids", str(work / "ids"), "--predictions", str(work / "predictions"), "--baseline", str(BASELINE), "--spec", str(folder),
        "--library", str(SCRIPTS), "--output", str(work / name), "--output-uri", f"s3://bench/runs/bench/infer-bench/{name}",
    ])
    return seconds, json.loads((work / name / "monitoring.json").read_text())


def main() -> None:
    global BASELINE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[4000, 1_000_000])
    parser.add_argument("--no-explain-all", action="store_true", help="skip explaining every item (about 11 minutes for 1,000,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        BASELINE = Path(temporary) / "baseline"
        write_baseline(BASELINE)
        print(f"{'items':>10}  {'Prepare':>8}  {'Monitor':>8}  {'ratio':>6}  {'Monitor rows/s':>14}  drifted (of 8)  NDCG   "
              "step's own figure")
        explained = []
        for rows in args.rows:
            work = Path(temporary) / f"run-{rows}"
            work.mkdir()
            prepare, monitor, summary = measure(rows, work)
            print(f"{rows:>10,}  {prepare:>7.2f}s  {monitor:>7.2f}s  {monitor / prepare:>5.2f}x  {rows / monitor:>14,.0f}  "
                  f"{summary['drifted_count']:>14}  {summary['ndcg']:.3f}  {summary['seconds']:.2f}s")
            spec = json.loads((work / "spec" / "spec.json").read_text())
            kinds = [("sample", SETTINGS["explain_max_items"])]
            if rows > SETTINGS["explain_max_items"] and not args.no_explain_all:  # below it, the sample is every item
                kinds.append(("all", rows))
            for kind, limit in kinds:
                seconds, summary = run_monitor(work, spec, f"explain-{kind}", explain_predictions=3, explain_max_items=limit)
                explained.append((rows, kind, monitor, seconds, summary["explanations"]))
        print("\nper-prediction explanations (top 3 features), the Monitor step with them beside it without")
        print(f"{'items':>10}  {'explained':>10}  {'sampled':>7}  {'Monitor':>8}  {'with them':>9}  {'added':>8}  {'items/s':>8}  "
              "warehouse rows")
        for rows, _kind, without, seconds, summary in explained:
            added = seconds - without
            print(f"{rows:>10,}  {summary['items']:>10,}  {'yes' if summary['sampled'] else 'no':>7}  {without:>7.2f}s  "
                  f"{seconds:>8.2f}s  {added:>7.2f}s  {summary['items'] / summary['seconds']:>8,.0f}  {summary['rows']:>14,}")


BASELINE = Path()

if __name__ == "__main__":
    main()
