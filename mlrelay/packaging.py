"""`make package`: the CloudFormation (SAM) template and Lambda zip that `make deploy` ships.

infra/resources.json keeps two things outside the template that CloudFormation
needs inline, so that the embedded stack and packaging read the same files:
the SageMaker pipeline definitions (pipelines/*.pipeline.json, named in each
pipeline's Metadata) and the state machine definitions (statemachines/*.asl.json,
named by DefinitionUri). Packaging inlines both, then lets `chalice package`
merge the result with the functions it generates.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrelay.bytecode import BytecodeError, add_bytecode, runtime_of
from mlrelay.pipeline_builder.code import StaleDefinitionError, code_bundle

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The template's record of the code its functions carry: `mlrelay deploy` writes the hash of the zip it uploads,
# the embedded stack that of its placeholder, and `mlrelay doctor` compares each function's CodeSha256 with it.
CODE_HASH_METADATA = "mlrelay:CodeSha256"


def code_sha256(zip_bytes: bytes) -> str:
    """A zip's hash as Lambda reports it (CodeSha256: base64 of the SHA-256 digest)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


class PackagingError(RuntimeError):
    """The template or the zip could not be built."""


@dataclass(frozen=True)
class Package:
    directory: Path
    template: Path
    zip_file: Path
    stage: str


def merge_template(project_root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """infra/resources.json with the pipeline and state machine definitions inlined."""
    template = json.loads((project_root / "infra" / "resources.json").read_text())
    bundle = code_bundle(project_root / "pipelines" / "scripts")
    for resource in template["Resources"].values():
        kind = resource.get("Type")
        if kind == "AWS::SageMaker::Pipeline":
            metadata = resource.get("Metadata", {})
            body = (project_root / metadata["mlrelay:DefinitionFile"]).read_text()
            try:
                bundle.require_built_for(body, metadata["mlrelay:DefinitionFile"])
            except StaleDefinitionError as err:
                raise PackagingError(str(err)) from err
            substitutions = metadata.get("mlrelay:DefinitionSubstitutions", {})
            resource["Properties"]["PipelineDefinition"] = {"PipelineDefinitionBody": {"Fn::Sub": [body, substitutions]}}
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in resource["Properties"]:
            path = project_root / resource["Properties"].pop("DefinitionUri")
            resource["Properties"]["Definition"] = json.loads(path.read_text())
    return template


def package(stage: str, out_dir: Path, project_root: Path = PROJECT_ROOT) -> Package:
    """Write <out_dir>/sam.json and <out_dir>/deployment.zip for `stage`."""
    config = json.loads((project_root / ".chalice" / "config.json").read_text())
    if stage not in config.get("stages", {}):
        raise PackagingError(f"stage {stage!r} is not in .chalice/config.json; use one of {sorted(config['stages'])}")
    out_dir.mkdir(parents=True, exist_ok=True)
    merge_file = out_dir / "merge-template.json"
    merge_file.write_text(json.dumps(merge_template(project_root), indent=2))
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", stage, "--merge-template", str(merge_file), str(out_dir)]
    # chalice package needs a region to name ARNs; the template itself uses ${AWS::Region}.
    environment = {"AWS_DEFAULT_REGION": "us-east-1", **os.environ}
    result = subprocess.run(command, cwd=project_root, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise PackagingError(f"chalice package failed: {(result.stderr or result.stdout).strip()[-2000:]}")
    merge_file.unlink()
    built = Package(out_dir, out_dir / "sam.json", out_dir / "deployment.zip", stage)
    try:
        add_bytecode(built.zip_file, runtime_of(json.loads(built.template.read_text())))
    except BytecodeError as err:
        raise PackagingError(str(err)) from err
    return built
