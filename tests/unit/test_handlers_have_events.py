"""Every handler in app.py has a sample event in events/ that its parser accepts."""

import subprocess
import sys

import pytest
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel, SqsModel

from app import app
from chalicelib.daily_freshness import FreshnessCheck
from chalicelib.inference_schedule import ScheduleFired
from chalicelib.inference_steps import InferenceStepEvent
from chalicelib.pipeline_callback import PipelineStatusEvent
from chalicelib.resume import ResumeRequest
from chalicelib.training_steps import TrainingStepEvent
from tests.conftest import EVENTS, ROOT, load_event

# How each handler parses its event; a new handler must be added here.
EVENT_PARSERS = {
    "alerts": SqsModel.model_validate,
    "check_daily_freshness": FreshnessCheck.model_validate,
    "inference_step": lambda event: InferenceStepEvent.model_validate({"request": event}),
    "on_config_dropped": S3EventNotificationEventBridgeModel.model_validate,
    "on_inference_schedule": ScheduleFired.model_validate,
    "on_pipeline_status": PipelineStatusEvent.model_validate,
    "resume_run": ResumeRequest.model_validate,
    "training_step": lambda event: TrainingStepEvent.model_validate({"request": event}),
}
HANDLERS = sorted(f.name for f in app.pure_lambda_functions)


def test_every_handler_is_known_here_and_has_a_sample_event():
    assert HANDLERS == sorted(EVENT_PARSERS)
    assert sorted(p.stem for p in EVENTS.glob("*.json")) == HANDLERS


@pytest.mark.parametrize("name", HANDLERS)
def test_the_sample_event_parses(name):
    assert EVENT_PARSERS[name](load_event(name))


def test_importing_the_handlers_pulls_in_no_heavy_libraries():
    # The Lambda package must stay small and cold starts short.
    probe = "import sys, app; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)

    loaded = set(result.stdout.split())
    assert not loaded & {"sagemaker", "pandas", "numpy", "moto", "duckdb", "mlrelay", "typer", "rich"}
