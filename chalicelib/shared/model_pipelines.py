"""A model's own copy of a base pipeline: the same steps, with its jobs run as the model's role.

The stack deploys one pipeline per workflow, run as the stack's SageMaker
execution role. A model's runs use a copy naming the model's role instead
(chalicelib/aws/model_roles.py), so its code writes only under runs/<model>/.
A copy is named by a digest of its definition: a new base definition (an
upgrade) or a new role gives a new copy, and an existing copy is the same.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

from chalicelib.shared.port_roles import HasModelRoles, HasPipelines

MAX_PIPELINE_NAME = 256  # SageMaker's limit
_DIGEST_CHARS = 16


class ModelPipelinePorts(HasModelRoles, HasPipelines, Protocol):
    pass


def with_role(definition: dict[str, Any], base_role: str, role: str) -> dict[str, Any]:
    """The definition with every mention of the base pipeline's role (each job's RoleArn, a model's
    ExecutionRoleArn) replaced by `role`."""
    text = json.dumps(definition)
    return dict(json.loads(text.replace(json.dumps(base_role), json.dumps(role))))


# data.layout -> (the transform input's ContentType, its Accept): the layouts of SageMaker's examples are served by the
# containers' default functions, whose output_fn writes text/csv, not mlrelay's application/jsonlines
SERVING_FORMATS = {
    "header": ("text/csv", "application/jsonlines"),
    "label_first": ("text/csv", "text/csv"),
    "libsvm": ("text/libsvm", "text/csv"),
}
CHANNEL_CONTENT_TYPES = {"libsvm": "text/libsvm"}  # the training channels' ContentType, where not text/csv


def with_layout(definition: dict[str, Any], layout: str) -> dict[str, Any]:
    """The definition with its batch transforms reading and writing what `layout` (data.layout) needs, and its
    training channels typed as the layout's files."""
    content_type, accept = SERVING_FORMATS[layout]
    copy = json.loads(json.dumps(definition))
    for step in copy["Steps"]:
        arguments = step.get("Arguments", {})
        if step["Type"] == "Transform":
            arguments["TransformInput"]["ContentType"] = content_type
            arguments["TransformOutput"]["Accept"] = accept
        if step["Type"] == "Training" and layout in CHANNEL_CONTENT_TYPES:
            for channel in arguments.get("InputDataConfig", []):
                if channel["ChannelName"] != "schema":
                    channel["ContentType"] = CHANNEL_CONTENT_TYPES[layout]
    return dict(copy)


def copy_name(base: str, definition: dict[str, Any]) -> str:
    """`<base>-<digest of the copy's definition>`: the stack's roles may describe and create pipelines `<base>*`."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{base[: MAX_PIPELINE_NAME - _DIGEST_CHARS - 1]}-{digest}"


def ensure_model_pipeline(
    ports: ModelPipelinePorts, base: str, definition: dict[str, Any], base_role: str, model_name: str, purpose: str,
) -> str:
    """The name of `model_name`'s copy of `definition` (the base pipeline's, perhaps changed), made if missing."""
    role = ports.model_roles.ensure(model_name)
    copy = with_role(definition, base_role, role)
    name = copy_name(base, copy)
    ports.pipelines.ensure(name, copy, role, f"mlrelay {purpose} of model {model_name}, as its own role (from {base})")
    return name
