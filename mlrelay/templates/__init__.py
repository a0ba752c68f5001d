"""Model folders to start a use case from: `mlrelay init NAME --template T` copies one and names it.

Each template is a config.yaml, training and serving code in model/, a small
sample table in data/, and tests/test_model.py (common to all), which runs the
code on the sample table as SageMaker would, with no AWS.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from string import Template

HERE = Path(__file__).parent
TEMPLATES = {
    "tabular-classification": "a table's rows into classes (scikit-learn gradient boosting; sample: package types)",
    "regression": "a number from a table's rows (scikit-learn gradient boosting; sample: shipping weights)",
    "text-classification": "short texts in any language into classes (character n-grams, CPU only; sample: grocery titles)",
}
_FOLDERS = {"tabular-classification": "tabular-classification", "regression": "tabular-regression",
            "text-classification": "text-classification"}
_FILLED_IN = ("config.yaml", "README.md")  # files with $name, $template and $data_uri in them


class TemplateError(ValueError):
    """The folder cannot be created as asked."""


def create_model_folder(name: str, template: str, parent: Path, data_uri: str) -> Path:
    """Copy `template` into parent/name with the name and data URI filled in; returns the folder."""
    if template not in TEMPLATES:
        raise TemplateError(f"no template {template!r}: choose one of {', '.join(TEMPLATES)}")
    # The config schema's own rule, imported here: `mlrelay --help` need not load pydantic.
    from pydantic import TypeAdapter, ValidationError

    from chalicelib.config.schema import ModelName

    try:
        TypeAdapter(ModelName).validate_python(name)
    except ValidationError as err:
        raise TemplateError(f"{name!r} cannot be a model name: 2 to 48 lowercase letters, digits and single hyphens, "
                            "starting with a letter (it names S3 prefixes and registry groups)") from err
    folder = parent / name
    if folder.exists() and any(folder.iterdir()):
        raise TemplateError(f"{folder} already exists and is not empty: choose another name or --directory")
    source = HERE / _FOLDERS[template]
    shutil.copytree(source, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(HERE / "common", folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    values = {"name": name, "template": template, "data_uri": data_uri}
    for filled in _FILLED_IN:
        path = folder / filled
        path.write_text(Template(path.read_text()).substitute(values))
    return folder


def data_uri_for(bucket: str, name: str) -> str:
    return f"s3://{bucket}/data/{name}/train.csv"
