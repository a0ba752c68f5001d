"""SageMaker's registry, jobs and pipeline executions (with the local runner's step records): one file, written
after each SageMaker write and each step's change of status. A pipeline the template makes keeps the template's
definition and gets its executions back; one made since (a model's own, by CreatePipeline) comes back whole."""

from __future__ import annotations

import logging
import pickle
import threading
import time
from typing import Any

from moto.sagemaker.models import sagemaker_backends

from mlrelay.local.durable.store import StateStore, write_atomically
from mlrelay.local.state_file import ACCOUNT_ID, REGION

logger = logging.getLogger(__name__)
_FROM_TEMPLATE = ("pipelines", "account_id", "region_name", "partition")


def _backend() -> Any:
    return sagemaker_backends[ACCOUNT_ID][REGION]


class SageMakerState:
    def __init__(self, store: StateStore):
        self._store = store
        self._lock = threading.Lock()
        self._last: bytes = b""

    def save(self) -> None:
        backend = _backend()
        with self._lock:
            for attempt in range(1, 21):  # the runner may change an execution while it is read
                try:
                    held = {name: value for name, value in vars(backend).items() if name not in _FROM_TEMPLATE}
                    data = pickle.dumps((held, dict(backend.pipelines)), protocol=pickle.HIGHEST_PROTOCOL)
                    break
                except RuntimeError:
                    time.sleep(0.005 * attempt)
            else:
                logger.error("SageMaker's state kept changing while it was saved; its next change saves it")
                return
            if data != self._last and not self._store.frozen.is_set():
                write_atomically(self._store.path("sagemaker.pickle"), data)
                self._last = data

    def restore(self) -> int:
        path = self._store.path("sagemaker.pickle")
        if not path.exists():
            return 0
        held, pipelines = self._store.load(path)
        backend = _backend()
        vars(backend).update(held)
        restored = 0
        for name, saved in pipelines.items():
            pipeline = backend.pipelines.setdefault(name, saved)
            if pipeline is not saved:
                pipeline.pipeline_executions.update(saved.pipeline_executions)
            restored += len(saved.pipeline_executions)
        return restored

    def executing(self) -> list[Any]:
        return [execution for pipeline in _backend().pipelines.values() for execution in pipeline.pipeline_executions.values()
                if execution.pipeline_execution_status == "Executing"]
