"""Batch transform inside one process, as the framework serving containers do it.

Loads the model with the user's model_fn, then for every input file sends
its records (split by line, batched MultiRecord up to 6 MB) through
input_fn, predict_fn and output_fn (or transform_fn), writing <file>.out with
the same relative path. A module may leave out any of them; the framework's
defaults then apply (mlrelay/local/serving_defaults.py). PyTorch's toolkit
reads the code from model.tar.gz's code/ folder, and serves with its defaults
when it has none. Run by mlrelay/local/sagemaker_jobs.py as a subprocess, in
the image's environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlrelay.local import serving_defaults

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # batch transform's default MaxPayloadInMB
UTF8_TYPES = ("text/csv", "application/json")


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--code-dir", "--program", "--model-dir", "--input-dir", "--output-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--framework", default="sklearn", choices=sorted(serving_defaults.DEFAULTS))
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--accept", default="text/csv")
    parser.add_argument("--split-type", default="Line")
    args = parser.parse_args()

    handlers = serving_handlers(args.framework, Path(args.code_dir), args.program)
    model = handlers.model_fn(args.model_dir)
    input_dir, output_dir = Path(args.input_dir), Path(args.output_dir)
    for source in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        target = output_dir / f"{source.relative_to(input_dir)}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w") as out:
            for payload in batches(source.read_text(), args.split_type):
                # as the containers' workers: a str body for CSV and JSON, the bytes for any other type
                body = payload if args.content_type in UTF8_TYPES else payload.encode()
                result = handlers.transform(model, body, args.content_type, args.accept)
                result = result.decode() if isinstance(result, bytes) else result
                out.write(result if result.endswith("\n") else result + "\n")


@dataclass(frozen=True)
class Handlers:
    model_fn: Callable[[str], Any]
    transform: Callable[[Any, Any, str, str], Any]  # (model, body, content type, accept) -> the response body


def serving_handlers(framework: str, code_dir: Path, program: str) -> Handlers:
    """The code's serving functions, the framework's defaults where it has none, as the containers' transformers
    combine them: transform_fn alone, or input_fn, predict_fn and output_fn."""
    defaults = serving_defaults.DEFAULTS[framework]
    module = _user_module(code_dir, program, required=framework != "pytorch")
    model_fn = getattr(module, "model_fn", defaults.model_fn)
    transform_fn = getattr(module, "transform_fn", None)
    steps = [getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")]
    if transform_fn is not None:
        if any(steps):
            sys.exit("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")

        def transform(model: Any, body: Any, content_type: str, accept: str) -> Any:
            result = transform_fn(model, body, content_type, accept)
            return result[0] if isinstance(result, tuple) else result  # (body, content type)
        return Handlers(model_fn, transform)
    input_fn, predict_fn, output_fn = (step or default for step, default in zip(
        steps, (defaults.input_fn, defaults.predict_fn, defaults.output_fn), strict=True))

    def in_steps(model: Any, body: Any, content_type: str, accept: str) -> Any:
        return output_fn(predict_fn(input_fn(body, content_type), model), accept)
    return Handlers(model_fn, in_steps)


def _user_module(code_dir: Path, program: str, required: bool) -> Any:
    """The entry point as a module; None where the PyTorch toolkit would find none (it then serves with its defaults)."""
    path = code_dir / program
    if not path.is_file() and not required:
        return None
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location("user_module", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {program} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batches(text: str, split_type: str) -> list[str]:
    if split_type != "Line":
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        if current and size + len(line) > MAX_PAYLOAD_BYTES:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append("".join(current))
    return chunks


if __name__ == "__main__":
    main()
