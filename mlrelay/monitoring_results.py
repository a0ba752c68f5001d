"""An inference run's monitoring results as its Monitor step wrote them (runs/<model>/<run>/monitoring/), read for
`mlrelay monitor show` and the console's Monitoring page."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from chalicelib.shared.pipeline_runs import run_prefix

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
CHECK_NAMES = {  # Model Monitor's constraint_check_type, short enough for a terminal's table
    "baseline_drift_check": "drift", "categorical_values_check": "categories", "data_type_check": "type",
    "completeness_check": "completeness", "missing_column_check": "missing", "extra_column_check": "extra",
    "attribution_ndcg": "attribution",
}


class NoResultsError(LookupError):
    """The run wrote no such document (not an inference run, or its pipeline did not finish)."""


def monitoring_prefix(model_name: str, run_id: str) -> str:
    return f"{run_prefix(model_name, run_id)}/monitoring"


def read_document(s3: Any, bucket: str, key: str) -> bytes:
    from botocore.exceptions import ClientError

    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_DOCUMENT_BYTES))
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise NoResultsError(f"s3://{bucket}/{key} does not exist") from err
        raise


def summary(s3: Any, bucket: str, model_name: str, run_id: str) -> dict[str, Any]:
    return dict(json.loads(read_document(s3, bucket, f"{monitoring_prefix(model_name, run_id)}/monitoring.json")))


def check_rows(s3: Any, bucket: str, model_name: str, run_id: str) -> list[dict[str, str]]:
    """Each check of each feature, as the warehouse load reads rows.csv."""
    from chalicelib.inference.warehouse_sql import MONITORING_FILE_COLUMNS

    text = read_document(s3, bucket, f"{monitoring_prefix(model_name, run_id)}/rows.csv").decode()
    return [dict(zip(MONITORING_FILE_COLUMNS, row, strict=True)) for row in csv.reader(io.StringIO(text)) if row]


def report_html(s3: Any, bucket: str, model_name: str, run_id: str) -> bytes:
    return read_document(s3, bucket, f"{monitoring_prefix(model_name, run_id)}/report.html")


def quality(s3: Any, bucket: str, model_name: str, run_id: str) -> dict[str, Any]:
    """A quality run's metrics document (the training evaluation's format), from labels that came back."""
    return dict(json.loads(read_document(s3, bucket, f"{run_prefix(model_name, run_id)}/quality/metrics.json")))
