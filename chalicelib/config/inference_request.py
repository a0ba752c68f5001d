"""An on-demand inference request: configs/infer/<anything>.json or .yaml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.config.schema import ModelName, S3Uri, StrictModel

ScratchTable = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,126}\.(scratch|canary)_[a-z0-9_]{1,119}$")]


class InferenceRequestConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="mlrelay inference request")

    schema_version: Literal[1]
    model_name: ModelName
    catalogue_uri: S3Uri | None = Field(None, description="items to predict; defaults to the model config's catalogue")
    # Only a scratch table: a drop must not be able to write into a predictions table (this stage's or another's).
    predictions_table: ScratchTable | None = Field(
        None, description="schema.scratch_<name> (or canary_<name>) to load into instead of the stage's predictions table; "
        "it must exist with the predictions table's columns (`create_table_sqls`)",
    )
