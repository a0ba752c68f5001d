"""Every handler in app.py has a sample event in events/ that its parser accepts."""

import subprocess
import sys

import pytest
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel, SqsModel

from app import app
from chalicelib.alerts.handler import AlertQueueRecord
from chalicelib.approvals.handler import RegistryStateChange
from chalicelib.inference.requests import FreshnessCheck, ScheduleFired, inference_step_requests
from chalicelib.pipeline_status.plan import PipelineStatusEvent
from chalicelib.resume.handler import ResumeRequest
from chalicelib.shared.event_models import S3ObjectCreatedEvent
from chalicelib.shared.messages import UnreadableMessage
from chalicelib.training.requests import training_step_requests
from tests.conftest import EVENTS, ROOT, load_event

# How each handler parses its event; a new handler must be added here.
EVENT_PARSERS = {
    "alerts": lambda event: SqsModel.model_validate(event) and all(
        not isinstance(AlertQueueRecord.model_validate(r).body, UnreadableMessage) for r in event["Records"]
    ),
    "check_daily_freshness": FreshnessCheck.model_validate,
    "decide_model": RegistryStateChange.model_validate,  # or a DecisionRequest from `mlrelay models` (its own tests)
    "inference_step": inference_step_requests.validate_python,
    "on_config_dropped": S3ObjectCreatedEvent.model_validate,
    "on_inference_schedule": ScheduleFired.model_validate,
    "on_pipeline_status": PipelineStatusEvent.model_validate,
    "resume_run": ResumeRequest.model_validate,
    "training_step": training_step_requests.validate_python,
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


def test_our_s3_event_model_reads_what_powertools_model_reads():
    event = load_event("on_config_dropped")
    ours, theirs = S3ObjectCreatedEvent.model_validate(event), S3EventNotificationEventBridgeModel.model_validate(event)

    assert (ours.time, ours.detail.bucket.name) == (theirs.time, theirs.detail.bucket.name)
    assert (ours.detail.object.key, ours.detail.object.etag, ours.detail.object.version_id, ours.detail.object.size) == (
        theirs.detail.object.key, theirs.detail.object.etag, theirs.detail.object.version_id, theirs.detail.object.size)
    for required in ("time", "detail"):
        broken = {k: v for k, v in event.items() if k != required}
        assert _refused(S3ObjectCreatedEvent, broken) and _refused(S3EventNotificationEventBridgeModel, broken)


def _refused(model, event):
    try:
        model.model_validate(event)
    except ValueError:
        return True
    return False


def test_importing_app_leaves_each_handlers_package_to_its_first_invocation():
    probe = ("import sys, app; app.on_config_dropped; "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith(('chalicelib.', 'aws_lambda_powertools.utilities')))))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)

    assert [m for m in result.stdout.split() if m.startswith(("chalicelib.intake", "chalicelib.alerts", "chalicelib.training"))] == []
    handlers = subprocess.run([sys.executable, "-c", "import sys, chalicelib.intake.handler, chalicelib.pipeline_status.handler; "
                               "print(' '.join(m for m in sys.modules if 'parser.models' in m))"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
    assert handlers.stdout.split() == []  # Powertools' parser models package imports every model it has
