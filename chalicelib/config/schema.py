"""The model config file (schema_version 1): what a data scientist drops in S3.

Strict on purpose: unknown fields, wrong types and unknown algorithms are
rejected with the path of the bad field, because a typo that silently falls
back to a default costs a training run.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# SageMaker resource names allow 63 characters; execution names and model
# package group names get prefixes and suffixes, so names stay at 48.
ModelName = Annotated[
    str,
    StringConstraints(min_length=2, max_length=48, pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"),
    Field(
        description="2 to 48 characters: lowercase letters, digits and single hyphens, "
        "starting with a letter (it names S3 prefixes, executions and registry groups)",
        examples=["packaging-type"],
    ),
]
ColumnName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,126}$")]
# Bucket rules from the S3 naming guide; the key must be non-empty.
S3Uri = Annotated[
    str,
    StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$"),
    Field(examples=["s3://my-bucket/data/catalogue.csv"]),
]
InstanceType = Annotated[str, StringConstraints(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")]


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
    """scikit-learn GradientBoostingClassifier."""

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
    """scikit-learn RandomForestClassifier."""

    type: Literal["sklearn.random_forest"]
    hyperparameters: RandomForestParams = Field(default_factory=RandomForestParams)


class LogisticRegressionParams(StrictModel):
    C: float = Field(1.0, gt=0)
    max_iter: int = Field(1000, ge=10, le=100_000)
    class_weight: Literal["balanced"] | None = None


class LogisticRegression(StrictModel):
    """scikit-learn LogisticRegression (one-hot categoricals, scaled numerics)."""

    type: Literal["sklearn.logistic_regression"]
    hyperparameters: LogisticRegressionParams = Field(default_factory=LogisticRegressionParams)




ModelSpec = Annotated[GradientBoosting | RandomForest | LogisticRegression, Field(discriminator="type")]
MODEL_TYPES = ("sklearn.gradient_boosting", "sklearn.random_forest", "sklearn.logistic_regression")


class DataSpec(StrictModel):
    uri: S3Uri = Field(description="S3 URI of the training table (CSV or Parquet)")
    format: Literal["csv", "parquet"] = "csv"
    label_column: ColumnName
    feature_columns: list[ColumnName] = Field(min_length=1, max_length=500)
    validation_split: float = Field(0.2, gt=0, le=0.5, description="share of rows held out for evaluation")

    @model_validator(mode="after")
    def _columns_are_distinct(self) -> DataSpec:
        if len(set(self.feature_columns)) != len(self.feature_columns):
            raise ValueError("feature_columns lists a column more than once")
        if self.label_column in self.feature_columns:
            raise ValueError(f"label_column {self.label_column!r} is also listed in feature_columns")
        return self


class TrainingResources(StrictModel):
    instance_type: InstanceType = "ml.m5.large"
    instance_count: int = Field(1, ge=1, le=1, description="scikit-learn trains on a single instance")
    max_runtime_minutes: int = Field(60, ge=1, le=24 * 60)


class ApprovalCriteria(StrictModel):
    """How a new model is judged against the approved one (used by training)."""

    primary_metric: Literal["macro_f1", "accuracy"] = "macro_f1"
    min_score: float = Field(0.5, ge=0, le=1, description="absolute floor for the primary metric")
    max_regression: float = Field(0.01, ge=0, le=1, description="largest allowed drop versus the approved model")
    max_label_psi: float = Field(0.2, gt=0, description="population stability index limit on the label mix")
    max_size_change: float = Field(0.5, gt=0, description="largest allowed relative change in training rows")


class InferenceSettings(StrictModel):
    daily: bool = True
    monthly: bool = True
    catalogue_uri: S3Uri | None = Field(None, description="items to predict; defaults to the training table")
    id_column: ColumnName = "item_id"
    added_at_column: ColumnName = "added_at"


class NotificationSettings(StrictModel):
    slack: bool = True
    sns: bool = True
    notify_on: list[Literal["failure", "promotion", "rejection", "inference"]] = Field(
        default_factory=lambda: ["failure", "promotion", "rejection"]
    )


class ModelConfig(StrictModel):
    """A training config: configs/train/<model_name>.json or .yaml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="mlrelay model config")

    schema_version: Literal[1]
    model_name: ModelName
    task: Literal["multiclass_classification", "binary_classification"] = "multiclass_classification"
    model: ModelSpec
    data: DataSpec
    training: TrainingResources = Field(default_factory=TrainingResources)
    approval: ApprovalCriteria = Field(default_factory=ApprovalCriteria)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

