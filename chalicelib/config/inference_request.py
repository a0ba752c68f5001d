"""An on-demand inference request: configs/infer/<anything>.json or .yaml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.config.schema import ModelName, S3Uri, StrictModel


class InferenceRequestConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="mlrelay inference request")

    schema_version: Literal[1]
    model_name: ModelName
    catalogue_uri: S3Uri | None = Field(None, description="items to predict; defaults to the model config's catalogue")
    predictions_table: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,126}\.[a-z_][a-z0-9_]{0,126}$")] | None = Field(
        None, description="schema.table to load into instead of the stage's predictions table (a scratch table: it must "
        "exist, with the predictions table's columns; `mlrelay warehouse init` makes the stage's)",
    )
