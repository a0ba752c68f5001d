"""How the CLI names a deployed stack's functions must follow app.py and infra/resources.json."""

import json

from app import app
from mlrelay.cli.connection import FUNCTIONS, stack_name
from tests.conftest import ROOT


def test_the_cli_knows_every_function_the_app_deploys():
    assert sorted(FUNCTIONS) == sorted(f.name for f in app.pure_lambda_functions)


def test_every_function_is_deployed_under_the_name_the_cli_calls():
    resources = json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]
    names = {spec["Properties"]["FunctionName"]["Fn::Sub"] for spec in resources.values()
             if "FunctionName" in spec.get("Properties", {}) and isinstance(spec["Properties"]["FunctionName"], dict)
             and "Fn::Sub" in spec["Properties"]["FunctionName"]}

    assert {f"{stack_name('${Stage}')}-{function}" for function in FUNCTIONS} <= names
