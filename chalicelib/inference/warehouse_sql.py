"""The SQL mlrelay sends to Redshift: pure functions, checked before anything is sent.

The load is one BatchExecuteStatement, so it is one transaction: COPY the
transform output (by manifest) into a session-temporary staging table,
delete this run's rows from the target, insert from staging. Rerunning a
run therefore replaces its rows instead of adding to them.

BatchExecuteStatement takes no Parameters, and COPY accepts no bind
parameters at all, so the few values in the batch are rendered as literals.
All of them are ours, not users': identifiers are checked against a strict
pattern, and every literal against the shape it must have (run id, model
name, S3 URI, role ARN, timestamp) before quoting. Users' data (item ids,
labels) only ever travels inside the COPY'd files. The row-count check,
a plain query, uses the Data API's Parameters.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")
_SHAPES = {
    "run id": re.compile(r"^[A-Za-z0-9_-]{1,80}$"),
    "model name": re.compile(r"^[a-z][a-z0-9-]{1,47}$"),
    "mode": re.compile(r"^(daily|monthly|on_demand)$"),
    "S3 URI": re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*()/=-]+$"),
    "IAM role ARN": re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"),
    "timestamp": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
}
PREDICTION_COLUMNS = ("item_id", "predicted_label", "predicted_value", "probabilities")


class UnsafeSqlValueError(ValueError):
    """A name or value does not have the shape it must have to go into SQL."""


@dataclass(frozen=True)
class PredictionsTable:
    schema: str
    table: str

    def __post_init__(self) -> None:
        for what, name in (("schema", self.schema), ("table", self.table)):
            if not _IDENTIFIER.match(name):
                raise UnsafeSqlValueError(
                    f"{what} name {name!r} is not allowed: use lowercase letters, digits and underscores, "
                    "starting with a letter or underscore (at most 127 characters)"
                )

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class LoadRequest:
    run_id: str
    model_name: str
    model_version: int
    mode: str
    predicted_at: str  # "YYYY-MM-DD HH:MM:SS", UTC
    manifest_uri: str
    iam_role_arn: str


# The table's columns: classification fills predicted_label and probabilities, regression predicted_value.
_COLUMNS = (
    "item_id VARCHAR(128) NOT NULL, "
    "model_name VARCHAR(64) NOT NULL, "
    "model_version INTEGER NOT NULL, "
    "predicted_label VARCHAR(256), "
    "predicted_value DOUBLE PRECISION, "
    "probabilities VARCHAR(4096), "  # a JSON object of class -> probability
    "run_id VARCHAR(128) NOT NULL, "
    "mode VARCHAR(16) NOT NULL, "
    "predicted_at TIMESTAMP NOT NULL"
)
PREDICTIONS_TABLE_COLUMNS = tuple(definition.split()[0] for definition in _COLUMNS.split(", "))
# Columns of the first layout (classification only, predicted_label NOT NULL): `mlrelay warehouse migrate` copies it.
FIRST_LAYOUT_COLUMNS = ("item_id", "model_name", "model_version", "predicted_label", "probabilities", "run_id", "mode", "predicted_at")


# Each inference run's monitoring results (pipelines/scripts/monitor.py): one row per feature test and violation.
MONITORING_TABLE = "model_monitoring"
_MONITORING_COLUMNS = (
    "run_id VARCHAR(128) NOT NULL, model_name VARCHAR(64) NOT NULL, model_version INTEGER NOT NULL, mode VARCHAR(16) NOT NULL, "
    "checked_at TIMESTAMP NOT NULL, feature VARCHAR(256) NOT NULL, check_type VARCHAR(64) NOT NULL, method VARCHAR(32), "
    "statistic DOUBLE PRECISION, p_value DOUBLE PRECISION, threshold DOUBLE PRECISION, violated SMALLINT NOT NULL, "
    "description VARCHAR(1024)"
)
MONITORING_FILE_COLUMNS = ("feature", "check_type", "method", "statistic", "p_value", "threshold", "violated", "description")


# Each explained prediction's top features (pipelines/scripts/explanations.py): one row per item and rank.
EXPLANATIONS_TABLE = "explanations"
_EXPLANATIONS_COLUMNS = (
    "item_id VARCHAR(128) NOT NULL, model_name VARCHAR(64) NOT NULL, model_version INTEGER NOT NULL, run_id VARCHAR(128) NOT NULL, "
    "mode VARCHAR(16) NOT NULL, explained_at TIMESTAMP NOT NULL, feature_rank SMALLINT NOT NULL, feature VARCHAR(256) NOT NULL, "
    "feature_value VARCHAR(256), attribution DOUBLE PRECISION NOT NULL, explained VARCHAR(256)"
)
EXPLANATION_FILE_COLUMNS = ("item_id", "feature_rank", "feature", "feature_value", "attribution", "explained")


def explanations_table(target: PredictionsTable) -> PredictionsTable:
    """The explanations table lives beside the predictions table, in its schema."""
    return PredictionsTable(target.schema, EXPLANATIONS_TABLE)


def monitoring_table(target: PredictionsTable) -> PredictionsTable:
    """The monitoring table lives beside the predictions table, in its schema."""
    return PredictionsTable(target.schema, MONITORING_TABLE)


def create_table_sqls(target: PredictionsTable) -> list[str]:
    """DDL for `mlrelay warehouse init` (Redshift and the local warehouse both accept it)."""
    return [f"CREATE SCHEMA IF NOT EXISTS {target.schema}", f"CREATE TABLE IF NOT EXISTS {target.qualified} ({_COLUMNS})",
            f"CREATE TABLE IF NOT EXISTS {monitoring_table(target).qualified} ({_MONITORING_COLUMNS})",
            f"CREATE TABLE IF NOT EXISTS {explanations_table(target).qualified} ({_EXPLANATIONS_COLUMNS})"]


def columns_sql(target: PredictionsTable) -> tuple[str, list[dict[str, str]]]:
    """The target's column names (information_schema, in Redshift and DuckDB alike), to plan a migration."""
    sql = "SELECT column_name FROM information_schema.columns WHERE table_schema = :schema AND table_name = :table"
    return sql, [{"name": "schema", "value": target.schema}, {"name": "table", "value": target.table}]


def migration_sqls(target: PredictionsTable, columns: list[str]) -> list[str]:
    """From the first layout to this one, in one transaction; [] when there is nothing to do.

    Redshift cannot drop a NOT NULL constraint in place, so this is a deep copy:
    a new table, the rows copied, the old one kept as <table>_v1.
    """
    if not columns or "predicted_value" in columns:
        return []
    if set(columns) != set(FIRST_LAYOUT_COLUMNS):
        raise UnsafeSqlValueError(f"{target.qualified} has columns {sorted(columns)}, not a layout mlrelay knows: migrate it by hand")
    staged = PredictionsTable(target.schema, f"{target.table[:120]}_v2")
    kept = f"{target.table[:124]}_v1"
    copied = ", ".join(FIRST_LAYOUT_COLUMNS)
    return [
        f"CREATE TABLE {staged.qualified} ({_COLUMNS})",
        # Identifiers checked by PredictionsTable (bandit B608).
        f"INSERT INTO {staged.qualified} ({copied}) SELECT {copied} FROM {target.qualified}",  # nosec B608
        f"ALTER TABLE {target.qualified} RENAME TO {kept}",
        f"ALTER TABLE {staged.qualified} RENAME TO {target.table}",
    ]


def load_sqls(
    target: PredictionsTable, request: LoadRequest, explanations_manifest: str | None = None, explained: bool = False,
) -> list[str]:
    """`explained`: the run explains its predictions, whose rows replace any it had in the same transaction; from the
    files `explanations_manifest` names (None: it explained none, and keeps none)."""
    staging = f"stage_{hashlib.sha256(request.run_id.encode()).hexdigest()[:12]}"
    columns = ", ".join(PREDICTION_COLUMNS)
    explanations = _explanation_sqls(target, request, explanations_manifest) if explained else []
    return [
        f"CREATE TEMP TABLE {staging} (item_id VARCHAR(128), predicted_label VARCHAR(256), predicted_value VARCHAR(64), "
        "probabilities VARCHAR(4096))",
        # EMPTYASNULL: the columns a task does not use are empty in the files, and NULL in the table.
        f"COPY {staging} ({columns}) FROM {_literal(request.manifest_uri, 'S3 URI')} "
        f"IAM_ROLE {_literal(request.iam_role_arn, 'IAM role ARN')} FORMAT AS CSV MANIFEST EMPTYASNULL",
        # Checked identifiers and literals (bandit B608).
        f"DELETE FROM {target.qualified} WHERE run_id = {_literal(request.run_id, 'run id')}",  # nosec B608
        # Checked identifiers (bandit B608).
        f"INSERT INTO {target.qualified} (item_id, model_name, model_version, predicted_label, predicted_value, probabilities, "  # nosec B608
        "run_id, mode, predicted_at) "
        f"SELECT item_id, {_literal(request.model_name, 'model name')}, {int(request.model_version)}, "
        "predicted_label, CAST(predicted_value AS DOUBLE PRECISION), probabilities, "
        f"{_literal(request.run_id, 'run id')}, {_literal(request.mode, 'mode')}, "
        f"CAST({_literal(request.predicted_at, 'timestamp')} AS TIMESTAMP) FROM {staging}",
        f"DROP TABLE {staging}",
        *explanations,
    ]


def _explanation_sqls(target: PredictionsTable, request: LoadRequest, manifest: str | None) -> list[str]:
    return _run_rows_sqls(
        explanations_table(target), _EXPLANATIONS_COLUMNS, request, manifest, "explain", "explained_at",
        "item_id VARCHAR(128), feature_rank VARCHAR(8), feature VARCHAR(256), feature_value VARCHAR(256), "
        "attribution VARCHAR(64), explained VARCHAR(256)",
        EXPLANATION_FILE_COLUMNS,
        "item_id, CAST(feature_rank AS SMALLINT), feature, feature_value, CAST(attribution AS DOUBLE PRECISION), explained",
    )


def explanation_sql(target: PredictionsTable, model_name: str, item_id: str) -> tuple[str, list[dict[str, str]]]:
    """An item's latest explanation (`mlrelay explain`), with the values as Data API parameters."""
    table = explanations_table(target).qualified
    # Checked identifier; the values are bound parameters (bandit B608).
    return (f"SELECT run_id, model_version, explained_at, feature_rank, feature, feature_value, attribution, explained "  # nosec B608
            f"FROM {table} WHERE model_name = :model AND item_id = :item AND explained_at = "
            f"(SELECT MAX(explained_at) FROM {table} WHERE model_name = :model AND item_id = :item) "
            "ORDER BY feature_rank", [{"name": "model", "value": model_name}, {"name": "item", "value": item_id}])


def monitoring_sqls(target: PredictionsTable, request: LoadRequest, has_rows: bool) -> list[str]:
    """One transaction: this run's monitoring rows replace any it had (the manifest names rows.csv; none without rows)."""
    return _run_rows_sqls(
        monitoring_table(target), _MONITORING_COLUMNS, request, request.manifest_uri if has_rows else None, "monitor",
        "checked_at",
        "feature VARCHAR(256), check_type VARCHAR(64), method VARCHAR(32), statistic VARCHAR(64), p_value VARCHAR(64), "
        "threshold VARCHAR(64), violated VARCHAR(8), description VARCHAR(1024)",
        MONITORING_FILE_COLUMNS,
        "feature, check_type, method, CAST(statistic AS DOUBLE PRECISION), CAST(p_value AS DOUBLE PRECISION), "
        "CAST(threshold AS DOUBLE PRECISION), CAST(violated AS SMALLINT), description",
    )


def _run_rows_sqls(
    table: PredictionsTable, columns: str, request: LoadRequest, manifest: str | None, staging_prefix: str, at_column: str,
    staging_columns: str, file_columns: tuple[str, ...], selected: str,
) -> list[str]:
    """A run's rows in a table beside the predictions, replaced: the table made if missing, the run's rows deleted,
    then the files `manifest` names (None: the run has none) copied into staging and inserted with the run's identity."""
    run = _literal(request.run_id, "run id")
    sqls = [f"CREATE TABLE IF NOT EXISTS {table.qualified} ({columns})",
            # Checked identifier and literal (bandit B608).
            f"DELETE FROM {table.qualified} WHERE run_id = {run}"]  # nosec B608
    if manifest is None:
        return sqls
    staging = f"{staging_prefix}_{hashlib.sha256(request.run_id.encode()).hexdigest()[:12]}"
    copied = ", ".join(file_columns)
    return [
        *sqls,
        f"CREATE TEMP TABLE {staging} ({staging_columns})",
        f"COPY {staging} ({copied}) FROM {_literal(manifest, 'S3 URI')} "
        f"IAM_ROLE {_literal(request.iam_role_arn, 'IAM role ARN')} FORMAT AS CSV MANIFEST EMPTYASNULL",
        # Checked identifiers and literals (bandit B608).
        f"INSERT INTO {table.qualified} (run_id, model_name, model_version, mode, {at_column}, {copied}) "  # nosec B608
        f"SELECT {run}, {_literal(request.model_name, 'model name')}, {int(request.model_version)}, "
        f"{_literal(request.mode, 'mode')}, CAST({_literal(request.predicted_at, 'timestamp')} AS TIMESTAMP), {selected} "
        f"FROM {staging}",
        f"DROP TABLE {staging}",
    ]


def count_sql(target: PredictionsTable, run_id: str) -> tuple[str, list[dict[str, str]]]:
    """How many rows a run has in the target, with the run id as a Data API parameter."""
    # The run id is a bound parameter (bandit B608).
    return f"SELECT COUNT(*) AS loaded FROM {target.qualified} WHERE run_id = :run_id", [{"name": "run_id", "value": run_id}]  # nosec B608


def client_token(run_id: str, step: str) -> str:
    """The same run and step send the same request: the Data API runs it once."""
    return hashlib.sha256(f"{run_id}\x1f{step}".encode()).hexdigest()[:64]


def _literal(value: str, shape: str) -> str:
    if not _SHAPES[shape].match(value):
        raise UnsafeSqlValueError(f"{shape} {value!r} does not have the expected shape; refusing to put it in SQL")
    return "'" + value.replace("'", "''") + "'"
