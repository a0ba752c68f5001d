"""A real-time endpoint's container, warm: loads the model once, then answers requests until its stdin closes.

Run by mlrelay/local/endpoint_process.py in the image's Python environment, as
the batch transform host is (mlrelay/local/transform_host.py, whose serving
functions it shares). Requests and answers are frames on stdin and stdout
(`write_frame`); the user's prints go to stderr, the endpoint's log, so they
cannot corrupt a frame. A multi-model endpoint's host starts without a model
and loads each target's folder on its first request, keeping it for the next.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

_HEADER = struct.Struct(">II")  # (meta JSON bytes, body bytes)


def write_frame(stream: IO[bytes], meta: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(meta).encode()
    stream.write(_HEADER.pack(len(encoded), len(body)) + encoded + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next frame; None when the other side closed the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    meta_size, body_size = _HEADER.unpack(header)
    meta = json.loads(stream.read(meta_size))
    return meta, stream.read(body_size)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", default="sklearn")
    parser.add_argument("--code-dir", required=True)
    parser.add_argument("--program", required=True)
    parser.add_argument("--model-dir", default="")  # none: a multi-model endpoint's host
    args = parser.parse_args()
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the user's prints: into the log, not into a frame
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer

    from mlrelay.local.transform_host import UTF8_TYPES, serving_handlers

    models: dict[str, Any] = {}
    try:
        handlers = serving_handlers(args.framework, Path(args.code_dir), args.program)
        if args.model_dir:
            models[args.model_dir] = handlers.model_fn(args.model_dir)
    except BaseException:
        write_frame(frames, {"ok": False, "error": traceback.format_exc()})
        sys.exit(1)
    write_frame(frames, {"ok": True})
    while (frame := read_frame(requests)) is not None:
        meta, body = frame
        model_dir = meta.get("model_dir") or args.model_dir
        load_seconds, phase = None, "load"
        try:
            if model_dir not in models:
                started = time.perf_counter()
                models[model_dir] = handlers.model_fn(model_dir)
                load_seconds = time.perf_counter() - started
            phase = "invoke"
            # as the containers' workers: a str body for CSV and JSON, the bytes for any other type
            payload = body.decode() if meta["content_type"] in UTF8_TYPES else body
            result = handlers.transform(models[model_dir], payload, meta["content_type"], meta["accept"])
            write_frame(frames, {"ok": True, "load_seconds": load_seconds}, _as_bytes(result))
        except Exception:
            error = traceback.format_exc()
            print(error, file=sys.stderr, flush=True)
            write_frame(frames, {"ok": False, "phase": phase, "error": error})


def _as_bytes(result: Any) -> bytes:
    if isinstance(result, (bytes, bytearray)):
        return bytes(result)
    return (result if isinstance(result, str) else json.dumps(result, default=str)).encode()


if __name__ == "__main__":
    main()
