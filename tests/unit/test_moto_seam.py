"""One seam to moto: only mlrelay/local/emulated/ imports it or touches its objects, and every private name used
there is pinned here, so that a moto upgrade that renames one fails this test instead of a run."""

import ast
import inspect
from pathlib import Path

import pytest
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import _RESTError  # noqa: F401 - pinned by importing it
from moto.core.responses import BaseResponse
from moto.s3.models import FakeKey
from moto.s3.utils import _VersionedKeyStore  # noqa: F401
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.server import ThreadedMotoServer
from moto.sqs.models import Queue
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import StateTaskServiceSfn
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from tests.conftest import ROOT

SEAM = ROOT / "mlrelay" / "local" / "emulated"
PRODUCT = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "mlrelay").rglob("*.py"),
           *(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
# moto's private names the seam uses: where each lives; an instance attribute is named by the method that sets it
PINNED = {
    "_RESTError": "moto.core.exceptions",
    "_VersionedKeyStore": "moto.s3.utils",
    "_SERVICE_NAME_SFN_TO_BOTO_OVERRIDES": StateTaskService,
    "_authenticate_and_authorize_action": ActionAuthenticatorMixin,
    "_get_action": BaseResponse,
    "_get_param": BaseResponse,
    "_eval_service_task": StateTaskServiceSfn,
    "_normalise_parameters": StateTaskServiceSfn,
    "_normalise_response": StateTaskServiceSfn,
    "_evaluate_with_timeout": ExecutionState,
    "_from_error": ExecutionState,
    "_wait_interval": WaitFunction,
    "_get_executions": StepFunctionsParserBackend,
    "_pool": CallbackPoolManager.__init__,
    "_messages": Queue.__init__,
    "_messages_lock": Queue.__init__,
    "_value_buffer": FakeKey.__init__,
    "_max_buffer_size": FakeKey.__init__,
    "_version_id": FakeKey.__init__,
    "_server": ThreadedMotoServer.__init__,
    "_cloud_watch_logging_session": Execution.__init__,  # a restored execution sets what moto's Execution reads
    "_activity_store": Execution.__init__,
    "_models": SageMakerModelBackend.__init__,  # the endpoints' models (mlrelay/local/emulated/sagemaker_endpoints.py)
    "_process_production_variants": FakeEndpoint,
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_nothing_outside_the_seam_imports_moto():
    found = []
    for path in PRODUCT:
        if SEAM in path.parents:
            continue
        for node in ast.walk(_tree(path)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {m}" for m in modules if m == "moto" or m.startswith("moto.")]

    assert found == [], "move these into mlrelay/local/emulated/: " + "; ".join(found)


def _defined_in_the_seam() -> set[str]:
    """Names the seam's own modules define: their functions, classes, variables and own classes' attributes (not those
    of a class that extends one of moto's: what it sets there may be moto's own)."""
    names: set[str] = set()
    for path in SEAM.rglob("*.py"):
        tree = _tree(path)
        from_moto = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     and (node.module or "").startswith("moto") for alias in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            if any(isinstance(base, ast.Name) and base.id in from_moto for base in cls.bases):
                continue
            names |= {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                      and isinstance(n.value, ast.Name) and n.value.id == "self"}
    return names


def test_every_private_moto_name_the_seam_uses_is_pinned():
    ours, used = _defined_in_the_seam(), set()
    for path in SEAM.rglob("*.py"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moto"):
                used |= {a.name for a in node.names}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                used.add(node.value)  # getattr(obj, "_name")
    private = {name for name in used if name.startswith("_") and not name.startswith("__")} - ours

    assert private == set(PINNED)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_pinned_private_name_is_still_where_moto_had_it(name):
    owner = PINNED[name]
    if isinstance(owner, str):
        assert hasattr(__import__(owner, fromlist=[name]), name)
    elif inspect.isfunction(owner):  # an attribute the method sets on the instance
        assert f"self.{name} =" in inspect.getsource(owner) or f"self.{name}:" in inspect.getsource(owner)
    else:
        assert hasattr(owner, name)
