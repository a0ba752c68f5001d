"""An on-demand inference request: configs/infer/<anything>.json or .yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.config.schema import ModelName, S3Uri, StrictModel


class InferenceRequestConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="mlrelay inference request")

    schema_version: Literal[1]
    model_name: ModelName
    catalogue_uri: S3Uri | None = Field(None, description="items to predict; defaults to the model config's catalogue")
