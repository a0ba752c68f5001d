"""The model config file (schema_version 1): what a data scientist drops in S3.

Strict on purpose: unknown fields, wrong types and unknown algorithms are
rejected with the path of the bad field, because a typo that silently falls
back to a default costs a training run. Every field here is used; none is
accepted and then ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chalicelib.config.metrics import TASK_METRICS, Task, default_metric, is_known_metric, lower_is_better
from chalicelib.shared.images import known_versions

# SageMaker resource names allow 63 characters; execution names and model package group names
# (mlrelay-<stage>-<model>) get prefixes and suffixes, so names stay at 48.
MAX_MODEL_NAME = 48
ModelName = Annotated[
    str,
    StringConstraints(min_length=2, max_length=MAX_MODEL_NAME, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"),
    Field(
        description="2 to 48 characters: lowercase letters, digits and single hyphens, "
        "starting with a letter (it names S3 prefixes, executions and registry groups)",
        examples=["packaging-type"],
    ),
]
# Real tables have columns like "mean radius" or "od280/od315_of_diluted_wines". Any printable name is
# accepted: column names travel only inside JSON documents and data files, never into code, a shell or SQL.
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]  # SageMaker's for a training channel
# Bucket rules from the S3 naming guide; the key must be non-empty.
S3Uri = Annotated[
    str,
    StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$"),
    Field(examples=["s3://my-bucket/data/catalogue.csv"]),
]
# The shape only: a stored config (an approved version's) stays readable; a new one must name a type mlrelay knows
# (parsing.parse_new_config).
InstanceType = Annotated[str, StringConstraints(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")]
# A path inside the code bundle: no absolute paths, no way out of it.
EntryPoint = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.py$")]
ImageUri = Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$")]
HyperparameterValue = Annotated[str, StringConstraints(max_length=2500)] | int | float | bool


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class GradientBoostingParams(StrictModel):
    n_estimators: int = Field(100, ge=1, le=5000)
    learning_rate: float = Field(0.1, gt=0, le=1)
    max_depth: int = Field(3, ge=1, le=32)
    subsample: float = Field(1.0, gt=0, le=1)
    min_samples_leaf: int = Field(1, ge=1)
    random_state: int = 0


class GradientBoosting(StrictModel):
    """scikit-learn GradientBoostingClassifier or GradientBoostingRegressor."""

    type: Literal["sklearn.gradient_boosting"]
    hyperparameters: GradientBoostingParams = Field(default_factory=GradientBoostingParams)


class RandomForestParams(StrictModel):
    n_estimators: int = Field(200, ge=1, le=5000)
    max_depth: int | None = Field(None, ge=1, le=64)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: Literal["sqrt", "log2"] | float = "sqrt"
    class_weight: Literal["balanced"] | None = None
    random_state: int = 0


class RandomForest(StrictModel):
    """scikit-learn RandomForestClassifier or RandomForestRegressor."""

    type: Literal["sklearn.random_forest"]
    hyperparameters: RandomForestParams = Field(default_factory=RandomForestParams)


class LogisticRegressionParams(StrictModel):
    C: float = Field(1.0, gt=0)
    max_iter: int = Field(1000, ge=10, le=100_000)
    class_weight: Literal["balanced"] | None = None


class LogisticRegression(StrictModel):
    """scikit-learn LogisticRegression (one-hot categoricals, scaled numerics); classification only."""

    type: Literal["sklearn.logistic_regression"]
    hyperparameters: LogisticRegressionParams = Field(default_factory=LogisticRegressionParams)


BuiltinModel = Annotated[GradientBoosting | RandomForest | LogisticRegression, Field(discriminator="type")]
MODEL_TYPES = ("sklearn.gradient_boosting", "sklearn.random_forest", "sklearn.logistic_regression")
FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "huggingface", "custom")


class UserCode(StrictModel):
    """The team's own training and serving code, run in SageMaker script mode."""

    framework: Literal["sklearn", "xgboost", "pytorch", "huggingface", "custom"] = Field(
        description="the SageMaker framework container that runs the code, or custom (give image_uri)"
    )
    image_uri: ImageUri | None = Field(None, description="custom: the training image; other frameworks: overrides it")
    serving_image_uri: ImageUri | None = Field(None, description="the batch transform image; defaults to the framework's (or image_uri)")
    # after the images: with both given, the version names no image mlrelay resolves, and any is taken
    framework_version: str | None = Field(None, description="defaults to the newest version mlrelay knows for the framework")
    source_dir: str | None = Field(
        None, description="a local folder, relative to this file; `mlrelay local drop` packs and uploads it and sets code_uri"
    )
    code_uri: S3Uri | None = Field(None, description="the uploaded bundle (sourcedir.tar.gz), content-addressed")
    entry_point: EntryPoint = Field("train.py", description="the training script, which also holds the serving functions")
    hyperparameters: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")], HyperparameterValue] = Field(
        default_factory=dict, description="passed to the script as --name value, and in SM_HPS"
    )

    @field_validator("framework_version")
    @classmethod
    def _known_version(cls, version: str | None, info: ValidationInfo) -> str | None:
        framework = info.data.get("framework")
        if version is None or framework in (None, "custom") or (info.data.get("image_uri") and info.data.get("serving_image_uri")):
            return version
        known = known_versions(framework)
        if version not in known:
            # the run would fail at LoadTrainingConfig, where the version names the images: refused at the drop instead
            raise ValueError(f"mlrelay knows no {framework} image version {version!r}: the known versions are "
                             f"{', '.join(known)} (docs/your-code.md lists them with their libraries)")
        return version

    @model_validator(mode="after")
    def _code_and_image(self) -> UserCode:
        if (self.source_dir is None) == (self.code_uri is None):
            raise ValueError("give exactly one of source_dir (a local folder) and code_uri (an uploaded bundle)")
        if self.framework == "custom" and self.image_uri is None:
            raise ValueError("framework custom needs image_uri (the image that runs your code)")
        if any(name.startswith("sagemaker_") for name in self.hyperparameters):
            raise ValueError("hyperparameter names starting with sagemaker_ are SageMaker's own")
        return self


def _model_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return "builtin" if hasattr(value, "type") else "code"
    if isinstance(value, dict):
        return "builtin" if "type" in value else "code"
    return None


ModelSpec = Annotated[
    Annotated[BuiltinModel, Tag("builtin")] | Annotated[UserCode, Tag("code")],
    Discriminator(_model_kind, custom_error_type="model_kind", custom_error_message="model must be a mapping"),
]


class DataSpec(StrictModel):
    uri: S3Uri = Field(description="S3 URI of the training table (a CSV file, or a prefix of CSV files)")
    format: Literal["csv"] = Field("csv", description="CSV with a header row")
    label_column: ColumnName
    feature_columns: list[ColumnName] = Field(min_length=1, max_length=2000)
    validation_split: float = Field(0.2, gt=0, le=0.5, description="share of rows held out for evaluation")
    layout: Literal["header", "label_first", "libsvm"] = Field(
        "header", description="how your code's train and validation channels hold the rows: header (a header row, and "
        "schema.json beside), label_first (no header, the label in the first column, only data files: the convention of "
        "SageMaker's built-in algorithms and most examples) or libsvm (the label, then index:value from 1, numbers only; "
        "a class as its index in schema.json's classes); schema.json is also in the schema channel. Batch transform "
        "sends the same layout without the label (libsvm: 0)",
    )
    validation_channel: ChannelName = Field(
        "validation", description="the channel that holds the held-out rows (many SageMaker examples read test)",
    )

    @field_validator("validation_channel")
    @classmethod
    def _not_another_channel(cls, name: str) -> str:
        if name.lower() in ("train", "schema"):  # the toolkit names SM_CHANNEL_<NAME> in capitals
            raise ValueError(f"{name} is the name of another channel (train, schema): name the held-out rows' channel "
                             "otherwise, e.g. validation or test")
        return name

    @model_validator(mode="after")
    def _columns_are_distinct(self) -> DataSpec:
        if len(set(self.feature_columns)) != len(self.feature_columns):
            raise ValueError("feature_columns lists a column more than once")
        if self.label_column in self.feature_columns:
            raise ValueError(f"label_column {self.label_column!r} is also listed in feature_columns")
        return self


class TrainingResources(StrictModel):
    instance_type: InstanceType = "ml.m5.large"
    instance_count: int = Field(1, ge=1, le=20, description="scikit-learn trains on one instance")
    max_runtime_minutes: int = Field(60, ge=1, le=24 * 60)


class ApprovalCriteria(StrictModel):
    """How a new model is judged against the approved one (used by training)."""

    metric: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.]{1,100}$")] | None = Field(
        None, description="any metric of the evaluation (see docs/config.md), or custom.<name> from your script; "
        "default: f1 (binary), macro_f1 (multiclass), rmse (regression)",
    )
    direction: Literal["higher", "lower"] | None = Field(None, description="which way is better; default: from the metric")
    threshold: float | None = Field(
        None, description="the floor (higher is better) or ceiling (lower is better) a candidate must meet; "
        "default 0.5 for classification, none for regression",
    )
    max_regression: float = Field(0.01, ge=0, description="how much worse than the approved version a candidate may be")
    regression_unit: Literal["absolute", "relative"] = Field("absolute", description="relative: a share of the approved value")
    max_distribution_psi: float = Field(
        0.2, gt=0, description="population stability index limit on the training label mix (classification) or target (regression)"
    )
    max_size_change: float = Field(0.5, gt=0, description="largest allowed relative change in training rows")
    mode: Literal["auto", "manual"] = Field(
        "auto", description="manual: a candidate that passes the rules waits as PendingManualApproval until someone runs "
        "`mlrelay models approve` (or approves it in the SageMaker registry)",
    )


class InferenceSettings(StrictModel):
    daily: bool = True
    monthly: bool = True
    catalogue_uri: S3Uri | None = Field(None, description="items to predict; defaults to the training table")
    id_column: ColumnName = "item_id"
    added_at_column: ColumnName = "added_at"


DRIFT_THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "wasserstein": 0.1, "jensen_shannon": 0.1, "psi": 0.2}


class FeatureMonitoring(StrictModel):
    method: Literal["ks", "wasserstein", "chisquare", "jensen_shannon", "psi"] | None = Field(
        None, description="this feature's drift test: ks, wasserstein or psi for numbers; chisquare, jensen_shannon or psi for categories",
    )
    threshold: float | None = Field(None, gt=0, description="p-value below which (ks, chisquare), or distance from which, it drifted")


class MonitoringSettings(StrictModel):
    """How each inference run is checked against the training baseline (docs/monitoring.md)."""

    on_violation: Literal["warn", "block"] = Field(
        "warn", description="warn: alert, then load the predictions; block: alert and load nothing (the run fails)",
    )
    numeric_test: Literal["auto", "ks", "wasserstein", "psi"] = Field(
        "auto", description="auto: Kolmogorov-Smirnov up to large_sample_rows, Wasserstein (in baseline standard deviations) above",
    )
    categorical_test: Literal["auto", "chisquare", "jensen_shannon", "psi"] = Field(
        "auto", description="auto: chi-squared up to large_sample_rows, Jensen-Shannon distance above",
    )
    large_sample_rows: int = Field(1000, ge=10, description="from how many rows the distance tests replace the p-value tests")
    thresholds: dict[Literal["ks", "chisquare", "wasserstein", "jensen_shannon", "psi"], float] = Field(
        default_factory=dict, description="per test: the p-value below which (ks, chisquare) or the distance from which it drifted",
    )
    features: dict[ColumnName, FeatureMonitoring] = Field(default_factory=dict, description="per feature: its own test or threshold")
    drift_min_rows: int = Field(50, ge=1, description="fewer rows than this (a quiet day) are not tested for drift")
    completeness_tolerance: float = Field(0.05, ge=0, le=1, description="how far a feature's share of present values may fall")
    domain_content_threshold: float = Field(1.0, ge=0, le=1, description="share of a category's values that must be known ones")
    attribution_ndcg_threshold: float = Field(0.9, ge=0, le=1, description="alert when the SHAP ranking's NDCG falls below")
    attribution_sample_rows: int = Field(1000, ge=50, le=100_000, description="rows the SHAP attributions are computed on")
    attribution_min_rows: int = Field(200, ge=50, description="fewer rows than this are not explained (too few for a ranking)")
    explain_predictions: int = Field(
        0, ge=0, le=20, description="each predicted item's top K features by SHAP value, written to the warehouse's "
        "explanations table beside its prediction (0: none)",
    )
    explain_max_items: int = Field(
        100_000, ge=100, le=10_000_000, description="a run predicting more items explains a random sample of this many, "
        "and says so (about 2,800 items a second on one core)",
    )
    retrain_on_quality_drop: bool = Field(
        False, description="when labels show the approved version worse than at training by more than approval.max_regression, "
        "start a training run of this config as well as alerting",
    )

    def resolved(self) -> dict[str, Any]:
        """The settings the pipeline steps read (runs/<model>/<run>/spec-<digest>/spec.json), with every default filled in."""
        return {
            "on_violation": self.on_violation, "numeric_method": self.numeric_test, "categorical_method": self.categorical_test,
            "large_sample_rows": self.large_sample_rows, "thresholds": {**DRIFT_THRESHOLDS, **self.thresholds},
            "drift_min_rows": self.drift_min_rows, "attribution_min_rows": self.attribution_min_rows,
            "features": {name: f.model_dump(exclude_none=True) for name, f in self.features.items()},
            "completeness_tolerance": self.completeness_tolerance, "domain_content_threshold": self.domain_content_threshold,
            "attribution_ndcg_threshold": self.attribution_ndcg_threshold, "attribution_sample_rows": self.attribution_sample_rows,
            "explain_predictions": self.explain_predictions, "explain_max_items": self.explain_max_items,
        }


NOTICE_KINDS = ("failure", "promotion", "rejection", "inference")


SegmentValue = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")]
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]


# One family run's state carries every segment's item and outcome, under Step Functions' 256 KB per state.
MAX_SEGMENTS = 300


class SegmentSettings(StrictModel):
    """One model per value of a column of the training table (docs/segments.md)."""

    column: ColumnName = Field(description="the training table's column that names each row's segment, e.g. country")
    values: list[SegmentValue] | None = Field(
        None, min_length=1, max_length=MAX_SEGMENTS,
        description="the segments to train; default: every value of the column with at least min_rows rows",
    )
    min_rows: int = Field(100, ge=10, description="fewer rows than this: the value is not trained (when values is not given)")
    max_concurrency: int = Field(10, ge=1, le=40, description="how many segments train at once")
    daily_hour: int = Field(5, ge=0, le=23, description="the local hour each segment's daily inference runs at")
    timezones: dict[SegmentValue, TimeZoneName] = Field(
        default_factory=dict, description="per segment value: its IANA time zone, e.g. {\"DE\": \"Europe/Berlin\"}",
    )
    default_timezone: TimeZoneName = Field("UTC", description="the time zone of segments not in timezones")

    def timezone_of(self, value: str) -> str:
        return self.timezones.get(value, self.default_timezone)

    @field_validator("timezones", "default_timezone")
    @classmethod
    def _known_timezones(cls, value: Any) -> Any:
        for name in value.values() if isinstance(value, dict) else [value]:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from err
        return value

    @field_validator("values")
    @classmethod
    def _values_are_distinct(cls, values: list[str] | None) -> list[str] | None:
        slugs = [segment_slug(value) for value in values or []]
        if len(set(slugs)) != len(slugs):
            raise ValueError("two values name the same model (case, spaces and dots do not count)")
        return values


def segment_slug(value: str) -> str:
    """The part of a segment's model name its value gives: `DE` -> `de`, `New York` -> `new-york`."""
    return "-".join(part for part in re.split(r"[^a-z0-9]+", value.lower()) if part)


def segment_model_name(model_name: str, value: str) -> str:
    return f"{model_name}-{segment_slug(value)}"


# Serverless Inference's memory sizes (MemorySizeInMB) and its concurrency limit per endpoint.
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_SERVERLESS_CONCURRENCY = 200
_SERVERLESS_FIELDS = ("memory_mb", "max_concurrency")
_INSTANCE_FIELDS = ("instance_type", "instance_count")


class ServingSettings(StrictModel):
    """A real-time endpoint for the approved version (docs/serving.md); no `endpoint`: none."""

    endpoint: Literal["serverless", "instance"] | None = Field(
        None, description="serverless (billed per request) or instance (billed per hour); absent: no endpoint")
    memory_mb: int = Field(2048, description="serverless: 1024 to 6144 in steps of 1024")
    max_concurrency: int = Field(5, ge=1, le=MAX_SERVERLESS_CONCURRENCY, description="serverless: requests served at once")
    instance_type: InstanceType = Field("ml.m5.large", description="instance: the hosting instance type")
    instance_count: int = Field(1, ge=1, le=10, description="instance: how many instances serve")
    multi_model: bool = Field(False, description="a model family: one multi-model endpoint, each segment's model by TargetModel")
    canary_percent: int = Field(10, ge=1, le=50, description="the share of capacity the new version serves first")
    canary_minutes: int = Field(5, ge=0, le=60, description="how long the canary serves before all traffic moves")

    @field_validator("memory_mb")
    @classmethod
    def _memory_is_a_serverless_size(cls, value: int) -> int:
        if value not in SERVERLESS_MEMORY_MB:
            raise ValueError(f"serverless memory is one of {', '.join(map(str, SERVERLESS_MEMORY_MB))} MB")
        return value

    def problems(self, segmented: bool) -> list[tuple[str, str]]:
        """(field path, message) for settings that do not go together."""
        found = []
        given = self.model_fields_set
        if self.endpoint is None:
            found += [(f"serving.{name}", "applies to an endpoint: set serving.endpoint (serverless or instance)")
                      for name in sorted(given - {"endpoint"})]
            return found
        other = _INSTANCE_FIELDS if self.endpoint == "serverless" else _SERVERLESS_FIELDS
        kind = "instance" if self.endpoint == "serverless" else "serverless"
        found += [(f"serving.{name}", f"applies to {kind} endpoints, not {self.endpoint} ones: remove it")
                  for name in other if name in given]
        if self.multi_model and self.endpoint == "serverless":
            found.append(("serving.multi_model", "SageMaker serves multi-model endpoints on instances only: set "
                                                 "serving.endpoint to instance"))
        if self.multi_model and not segmented:
            found.append(("serving.multi_model", "one endpoint for a model family: add segments, or remove multi_model"))
        return found


NoticeKind = Literal["failure", "promotion", "rejection", "inference"]


class NotificationSettings(StrictModel):
    slack: bool = True
    sns: bool = True
    notify_on: list[NoticeKind] = Field(
        default_factory=lambda: list[NoticeKind](["failure", "promotion", "rejection"]),
        description="failure (a run or this config failing), promotion, rejection, inference (predictions loaded)",
    )


class ModelConfig(StrictModel):
    """A training config: configs/train/<model_name>.json or .yaml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="mlrelay model config")

    schema_version: Literal[1]
    model_name: ModelName
    task: Task = "multiclass_classification"
    model: ModelSpec
    data: DataSpec
    training: TrainingResources = Field(default_factory=TrainingResources)
    approval: ApprovalCriteria = Field(default_factory=ApprovalCriteria)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    segments: SegmentSettings | None = Field(None, description="train, promote and serve one model per segment")
    serving: ServingSettings = Field(default_factory=ServingSettings, description="a real-time endpoint for the approved version")

    def cross_field_problems(self) -> list[tuple[str, str]]:
        """(field path, message) for what each field allows alone but not together with the others."""
        problems = []
        if isinstance(self.model, LogisticRegression) and self.task == "regression":
            problems.append(("model.type", "sklearn.logistic_regression is a classifier: for regression use "
                                           "sklearn.gradient_boosting or sklearn.random_forest"))
        if not isinstance(self.model, UserCode):  # the built-in models' code reads today's channels
            if self.data.layout != "header":
                problems.append(("data.layout", "a built-in model reads the header layout: remove data.layout, or bring your "
                                                "own code (model.framework)"))
            if self.data.validation_channel != "validation":
                problems.append(("data.validation_channel", "a built-in model reads the validation channel: remove "
                                                            "data.validation_channel, or bring your own code"))
        framework = self.model.framework if isinstance(self.model, UserCode) else "sklearn"
        if framework == "sklearn" and self.training.instance_count != 1:
            problems.append(("training.instance_count",
                             f"scikit-learn trains on a single instance: set 1 (got {self.training.instance_count})"))
        for name in self.monitoring.features:
            if name not in self.data.feature_columns:
                problems.append((f"monitoring.features.{name}", f"{name} is not one of data.feature_columns: "
                                                                f"{', '.join(self.data.feature_columns[:20])}"))
        if self.segments is not None:
            problems.extend(self._segment_problems(self.segments))
        problems.extend(self.serving.problems(segmented=self.segments is not None))
        if not is_known_metric(self.task, self.metric):
            problems.append(("approval.metric", f"{self.metric!r} is not a {self.task} metric: use one of "
                                                f"{', '.join(TASK_METRICS[self.task])}, or custom.<name> for one your script writes"))
        return problems

    def _segment_problems(self, segments: SegmentSettings) -> list[tuple[str, str]]:
        problems = []
        if segments.column in (self.data.label_column, *self.data.feature_columns):
            problems.append(("segments.column", f"{segments.column} is the label or a feature: within a segment it has "
                                                "one value, so name a column the model does not read"))
        room = MAX_MODEL_NAME - len(self.model_name) - 1
        for index, value in enumerate(segments.values or []):
            if not 1 <= len(segment_slug(value)) <= room:
                named = segment_model_name(self.model_name, value)
                problems.append((f"segments.values.{index}", f"{value!r} makes the model name {named!r}: a segment's name "
                                                              f"(lowercase letters and digits) may be 1 to {room} characters here"))
        return problems

    @property
    def metric(self) -> str:
        return self.approval.metric or default_metric(self.task)

    @property
    def lower_is_better(self) -> bool:
        return self.approval.direction == "lower" if self.approval.direction else lower_is_better(self.metric)

    @property
    def threshold(self) -> float | None:
        if self.approval.threshold is not None:
            return self.approval.threshold
        return None if self.task == "regression" else 0.5
