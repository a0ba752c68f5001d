"""Real-time predictions from a model's endpoint, and the stage's endpoints (`mlrelay predict`, `mlrelay endpoints`).

The rows are sent as the endpoint's serving code reads them, which is how batch inference sends them: the config's
feature columns, in its order, headerless CSV (text/csv). The endpoint and the version it serves come from the models
table's record of the last deployment (chalicelib/training/deploy.py); a family's multi-model endpoint is asked for one
segment's model by TargetModel.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.config.schema import ModelConfig, segment_model_name

MAX_ROWS_PER_REQUEST = 1000  # a request's body stays well under SageMaker's 6 MB (4 MB serverless)


class PredictError(RuntimeError):
    """The request cannot be made or was refused; the message says what to do."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    model_name: str  # the model (a segment's own, in a family) whose version answers
    version: int
    target_model: str  # multi-model endpoints: the archive to ask; empty otherwise


def target_for(deployments: Any, model_name: str, segment: str | None) -> Target:
    """`deployments`: ModelVersions (its deployment records). A family's model is named by its segment value."""
    member = segment_model_name(model_name, segment) if segment else model_name
    record = deployments.deployment(member)
    if record is None:
        family_hint = "" if segment else (f"; a model family's segments are asked with --segment VALUE "
                                          f"(`mlrelay models show {model_name}` lists them)")
        raise PredictError(f"{member} has no endpoint in service: set serving.endpoint in its config and train, or "
                           f"approve a version (docs/serving.md){family_hint}")
    return Target(record["endpoint"], member, int(record["version"]), record.get("target_model", ""))


def rows_from_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise PredictError(f"cannot read {path}: {err}") from err
    if not rows:
        raise PredictError(f"{path} has a header and no rows: add the rows to predict")
    return rows


def row_from_json(text: str) -> dict[str, Any]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as err:
        raise PredictError(f"--row is not JSON ({err.msg} at character {err.pos}): give an object like "
                           "'{\"weight_g\": 120, \"fragile\": 1}'") from err
    if not isinstance(row, dict):
        raise PredictError("--row must be a JSON object of column to value")
    return row


def request_bodies(rows: list[dict[str, Any]], config: ModelConfig) -> list[str]:
    """The rows as the serving code reads them: the feature columns, in the config's order, headerless CSV."""
    if config.data.layout == "libsvm":
        raise PredictError(f"{config.model_name} reads libsvm rows: mlrelay predict sends CSV; use a CSV-layout model")
    features = config.data.feature_columns
    missing = sorted({f for row in rows for f in features if f not in row})
    if missing:
        raise PredictError(f"the rows lack the feature column(s) {', '.join(missing[:10])}: {config.model_name} reads "
                           f"{', '.join(features[:20])}")
    bodies = []
    for start in range(0, len(rows), MAX_ROWS_PER_REQUEST):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows[start:start + MAX_ROWS_PER_REQUEST]:
            writer.writerow(["" if row[f] is None else row[f] for f in features])
        bodies.append(out.getvalue())
    return bodies


def requests_for(versions: Any, s3: Any, target: Target, rows: list[dict[str, Any]]) -> list[str]:
    """The request bodies for `rows`, by the config of the version `target` serves (its feature columns)."""
    from chalicelib.config.parsing import parse_config

    record = versions.version(target.model_name, target.version)
    if record is None:
        raise PredictError(f"{target.model_name} v{target.version} is not in the models table: `mlrelay models show "
                           f"{target.model_name}` lists its versions")
    ref = record.config
    raw = s3.get_object(Bucket=ref["bucket"], Key=ref["key"],
                        **({"VersionId": ref["version_id"]} if ref.get("version_id") else {}))["Body"].read()
    return request_bodies(rows, parse_config(raw, ref["key"]))


def invoke(runtime: Any, target: Target, body: str) -> list[str]:
    """One request; the answer's lines, one per row."""
    from botocore.exceptions import ClientError

    arguments: dict[str, Any] = {"EndpointName": target.endpoint, "Body": body.encode(), "ContentType": "text/csv",
                                 "Accept": "text/csv"}
    if target.target_model:
        arguments["TargetModel"] = target.target_model
    try:
        answer = runtime.invoke_endpoint(**arguments)
    except ClientError as err:
        error = err.response.get("Error", {})
        raise PredictError(f"{target.endpoint} refused the request: {error.get('Code')}: {error.get('Message')}") from err
    return [line for line in answer["Body"].read().decode().splitlines() if line.strip()]


def predictions(runtime: Any, target: Target, bodies: list[str], rows: int) -> list[str]:
    found = [line for body in bodies for line in invoke(runtime, target, body)]
    if len(found) != rows:
        raise PredictError(f"{target.endpoint} answered {len(found)} lines for {rows} rows: its output_fn writes one "
                           "line per row for text/csv, as batch inference reads it")
    return found


def parsed(line: str) -> Any:
    """An answer line as the model wrote it: JSON (mlrelay's built-in models write {"label", "probabilities"}) or text."""
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return line


def readable(line: str) -> str:
    """A line for the table: the label and its probability when the model gives them, else the line itself."""
    value = parsed(line)
    if isinstance(value, dict) and "label" in value:
        probability = (value.get("probabilities") or {}).get(str(value["label"]))
        return f"{value['label']}" + (f" ({probability:.0%})" if isinstance(probability, int | float) else "")
    return line
