"""Bytecode compiled into the Lambda zip, so a cold start does not compile every module it imports.

Lambda unpacks the zip to /var/task, which is read-only: Python cannot write
__pycache__ there, so without bytecode in the zip every cold start compiles the
whole import graph, every time. The .pyc files are made by this interpreter,
which must be the runtime's Python version (`chalice package` names the runtime
after it), with unchecked hashes: they stay valid whatever times the unpacked
files get.
"""

from __future__ import annotations

import compileall
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

LAMBDA_TASK_ROOT = "/var/task"  # where tracebacks should say the code is


class BytecodeError(RuntimeError):
    """The zip cannot be given bytecode for its runtime."""


def runtime_of(template: dict) -> str:
    runtimes = {r["Properties"].get("Runtime") for r in template.get("Resources", {}).values()
                if r.get("Type") == "AWS::Serverless::Function"}
    runtimes.discard(None)
    if len(runtimes) != 1:
        raise BytecodeError(f"expected one Lambda runtime in the template, found {sorted(runtimes) or 'none'}")
    return runtimes.pop()


def add_bytecode(zip_path: Path, runtime: str) -> int:
    """Rewrite the zip with a .pyc beside every .py; returns how many were compiled."""
    ours = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != ours:
        raise BytecodeError(f"the functions run on {runtime} but this is {ours}: bytecode is per version, so package with {runtime}")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(zip_path) as original:
            original.extractall(root)
            entries = [(info, original.read(info)) for info in original.infolist()]
        compiled = compileall.compile_dir(
            root, quiet=2, ddir=LAMBDA_TASK_ROOT, workers=os.cpu_count() or 1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not compiled:
            raise BytecodeError(f"some module in {zip_path} does not compile for {runtime}")
        rewritten = zip_path.with_suffix(".tmp")
        bytecode = sorted(root.rglob("*.pyc"))
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as packed:
            for info, content in entries:  # as chalice wrote them, modes and all
                packed.writestr(info, content)
            for path in bytecode:
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                packed.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
        rewritten.replace(zip_path)
    return len(bytecode)
