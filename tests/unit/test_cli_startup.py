"""`mlrelay --help` and `mlrelay config validate` start in a fresh interpreter without the emulator or the AWS SDK.

Only `local` commands and the demo may import moto; commands that talk to a stack import boto3 when they run.
The time itself is measured by benchmarks/cli_time.py, not here.
"""

import json
import subprocess
import sys

from tests.conftest import EXAMPLES, ROOT

NEVER_AT_START = {"moto", "boto3", "botocore", "pandas", "numpy", "duckdb", "sagemaker"}


def imported_by(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    finished = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(finished.stdout.splitlines()[-1]))


def test_importing_the_cli_imports_neither_moto_nor_the_aws_sdk():
    assert imported_by("import mlrelay.cli.main") & NEVER_AT_START == set()


def test_validating_a_config_imports_neither_moto_nor_the_aws_sdk():
    code = ("from mlrelay.cli.main import app\n"
            "try:\n"
            f"    app(['config', 'validate', {str(EXAMPLES / 'packaging-type.json')!r}])\n"
            "except SystemExit as done:\n"
            "    assert done.code in (0, None), done.code")

    assert imported_by(code) & NEVER_AT_START == set()
