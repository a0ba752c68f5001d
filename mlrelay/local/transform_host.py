"""Batch transform inside one process, as the framework serving containers do it.

Loads the model with the user's model_fn, then for every input file sends
its records (split by line, batched MultiRecord up to 6 MB) through
input_fn, predict_fn and output_fn, writing <file>.out with the same
relative path. A module may leave out any of them; the framework's defaults
then apply (mlrelay/local/serving_defaults.py). Run by
mlrelay/local/sagemaker_jobs.py as a subprocess, in the image's environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from mlrelay.local import serving_defaults

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # batch transform's default MaxPayloadInMB


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--code-dir", "--program", "--model-dir", "--input-dir", "--output-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--framework", default="sklearn", choices=sorted(serving_defaults.DEFAULTS))
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--accept", default="text/csv")
    parser.add_argument("--split-type", default="Line")
    args = parser.parse_args()

    sys.path.insert(0, args.code_dir)
    spec = importlib.util.spec_from_file_location("user_module", Path(args.code_dir) / args.program)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {args.program} from {args.code_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defaults = serving_defaults.DEFAULTS[args.framework]
    model_fn = getattr(module, "model_fn", defaults.model_fn)
    input_fn = getattr(module, "input_fn", defaults.input_fn)
    predict_fn = getattr(module, "predict_fn", defaults.predict_fn)
    output_fn = getattr(module, "output_fn", defaults.output_fn)
    model = model_fn(args.model_dir)

    input_dir, output_dir = Path(args.input_dir), Path(args.output_dir)
    for source in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        target = output_dir / f"{source.relative_to(input_dir)}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w") as out:
            for payload in batches(source.read_text(), args.split_type):
                data = input_fn(payload, args.content_type)
                prediction = predict_fn(data, model)
                result = output_fn(prediction, args.accept)
                result = result.decode() if isinstance(result, bytes) else result
                out.write(result if result.endswith("\n") else result + "\n")


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
