"""Turn the bytes of a config file into a ModelConfig, or into every problem found.

Pure: no IO. The trigger handler and `mlrelay config validate` both call
`parse_config`, so a user sees locally exactly what the trigger would say.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from chalicelib.config.instances import INSTANCE_TYPES
from chalicelib.config.schema import MODEL_TYPES, ModelConfig

M = TypeVar("M", bound=BaseModel)
_MODEL_KINDS = ("builtin", "code")  # the tags of the model union, which a user never wrote

# Configs are small; a larger object is a mistake (a data file dropped in the
# wrong prefix) and must not be read whole into a Lambda's memory.
MAX_CONFIG_BYTES = 64 * 1024
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")
FILE_LEVEL = ""  # the path of a problem that concerns the whole file

_PATTERN_HINTS = {
    "model_name": "must be 2-48 characters of lowercase letters, digits and single hyphens, starting with a letter",
    "uri": "must be an S3 URI like s3://bucket-name/path/to/table.csv",
    "catalogue_uri": "must be an S3 URI like s3://bucket-name/path/to/catalogue.csv",
    "code_uri": "must be an S3 URI like s3://bucket-name/code/<digest>/sourcedir.tar.gz",
    "instance_type": "must be a SageMaker instance type like ml.m5.large",
    "entry_point": "must be a .py file inside the code folder, like train.py or src/train.py",
    "image_uri": "must be an ECR image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
    "serving_image_uri": "must be an ECR image URI like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
    "metric": "must be a metric name like rmse, macro_f1 or custom.my_metric",
    "validation_channel": "must be a SageMaker channel name: 1 to 64 letters, digits, '.', '_' or '-', like validation or test",
}
# Fields an earlier version of the schema had: say what they are called now.
_RENAMED = {"primary_metric": "metric", "min_score": "threshold", "max_label_psi": "max_distribution_psi"}
_COLUMN_HINT = "must be a column name: 1 to 256 characters without control characters"


@dataclass(frozen=True)
class ConfigProblem:
    path: str  # dotted path of the bad field, e.g. "data.feature_columns[2]"; "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(file)'}: {self.message}"


class ConfigError(ValueError):
    """A config file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_config(raw: bytes, filename: str, schema: type[M] = ModelConfig) -> M:  # type: ignore[assignment]
    """Parse and validate a config file's content; raise ConfigError listing every problem."""
    document = load_document(raw, filename)
    try:
        parsed = schema.model_validate(document)
    except ValidationError as err:
        raise ConfigError([_problem_from(e) for e in err.errors()]) from err
    cross_checks = getattr(parsed, "cross_field_problems", None)
    problems = [ConfigProblem(path, message) for path, message in (cross_checks() if cross_checks else [])]
    if problems:
        raise ConfigError(problems)
    return parsed


def parse_new_config(raw: bytes, filename: str) -> ModelConfig:
    """A config as it is dropped or submitted: parsed, and held to what mlrelay accepts now (a config stored with an
    earlier version, an approved model's, is read with parse_config and keeps working)."""
    config: ModelConfig = parse_config(raw, filename)
    known = ", ".join(INSTANCE_TYPES)
    named = [("training.instance_type", config.training.instance_type)]
    if config.serving.endpoint == "instance":
        named.append(("serving.instance_type", config.serving.instance_type))
    problems = [ConfigProblem(path, f"{value} is not one of the instance types mlrelay knows: {known}")
                for path, value in named if value not in INSTANCE_TYPES]
    if problems:
        raise ConfigError(problems)
    return config


class ObjectReader(Protocol):
    def read(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> Any: ...


def read_config(s3: ObjectReader, bucket: str, key: str, version_id: str | None) -> ModelConfig:
    """The config at one S3 object version (a run's, a model version's), parsed."""
    return parse_config(s3.read(bucket, key, version_id, MAX_CONFIG_BYTES).data, key)


def load_document(raw: bytes, filename: str) -> dict[str, Any]:
    """Decode JSON or YAML (chosen by the file's suffix) into a mapping."""
    suffix = next((s for s in CONFIG_SUFFIXES if filename.lower().endswith(s)), None)
    if suffix is None:
        raise _file_error(f"unsupported file type: name the file *.json, *.yaml or *.yml (got {filename!r})")
    if len(raw) > MAX_CONFIG_BYTES:
        raise _file_error(f"file is {len(raw):,} bytes; a config may be at most {MAX_CONFIG_BYTES:,} bytes")
    if not raw.strip():
        raise _file_error("file is empty: a config needs at least schema_version, model_name, model and data")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _file_error(f"file is not UTF-8 text (byte {err.start})") from err
    document = _load_json(text) if suffix == ".json" else _load_yaml(text)
    if not isinstance(document, dict):
        raise _file_error(f"the top level must be a mapping of fields, not a {type(document).__name__}")
    return document


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as err:
        raise _file_error(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from err
    except _DuplicateKeyError as err:
        raise _file_error(str(err)) from err


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(f"field {key!r} appears twice in the same mapping")
        document[key] = value
    return document


class _DuplicateKeyError(ValueError):
    pass


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"field {key!r} appears twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> Any:
    try:
        # A SafeLoader subclass that also refuses duplicate keys (bandit B506).
        return yaml.load(text, Loader=_StrictYamlLoader)  # nosec B506
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _file_error(f"invalid YAML{where}: {err.problem}") from err
    except yaml.YAMLError as err:
        raise _file_error(f"invalid YAML: {err}") from err


def _file_error(message: str) -> ConfigError:
    return ConfigError([ConfigProblem(FILE_LEVEL, message)])


def _problem_from(error: Any) -> ConfigProblem:
    # The model union's tag (e.g. "sklearn.random_forest") appears in the
    # location; a user wrote "model.hyperparameters.x", so drop it.
    location = [part for part in error["loc"] if part not in MODEL_TYPES and part not in _MODEL_KINDS]
    if error["type"] == "union_tag_invalid":
        location.append("type")
        message = f"unknown model type {error['input'].get('type')!r}; known types: {', '.join(MODEL_TYPES)}"
        return ConfigProblem(_dotted(location), message)
    if error["type"] == "union_tag_not_found":
        location.append("type")
        return ConfigProblem(_dotted(location), f"missing; one of: {', '.join(MODEL_TYPES)}")
    return ConfigProblem(_dotted(location), _message_for(error, location))


def _message_for(error: Any, location: list[Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden" and location and location[-1] in _RENAMED:
        return f"renamed: use {_RENAMED[location[-1]]} (see `mlrelay config schema` for the fields)"
    if kind == "literal_error" and location == ["data", "format"]:
        return f"only csv is supported: write the table as CSV with a header row (got {_short_repr(error['input'])})"
    if kind == "extra_forbidden":
        suggestion = _closest_field(location)
        hint = f"did you mean {suggestion!r}? " if suggestion else ""
        return f"unknown field ({hint}see `mlrelay config schema` for the fields)"
    if kind == "string_pattern_mismatch":
        field = next((p for p in reversed(location) if isinstance(p, str)), "")
        hint = _PATTERN_HINTS.get(field, _COLUMN_HINT)
        return f"{hint} (got {_short_repr(error['input'])})"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, (dict, list)):
        return str(error["msg"])
    return f"{error['msg']} (got {_short_repr(value)})"


def _closest_field(location: list[Any]) -> str | None:
    """The known field nearest in spelling to an unknown one, at the same level."""
    model: Any = ModelConfig
    for part in location[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    matches = difflib.get_close_matches(str(location[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _dotted(location: list[Any]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
