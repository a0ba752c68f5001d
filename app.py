"""mlrelay's Lambda handlers. Each parses its event, calls one function, returns.

The work lives in chalicelib/. Resources these handlers use (bucket, tables,
queues, state machines) are declared in infra/resources.json.

Every function imports this module, so each handler imports its own package
when it first runs: a cold start pays only for the function that starts
(benchmarks/import_time.py measures it).
"""

from chalice import Chalice, ConvertToMiddleware

from chalicelib.shared.observability import logger

app = Chalice(app_name="mlrelay")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))


# --- Triggers (EventBridge rules in infra/resources.json) --------------------


@app.lambda_function(name="on_config_dropped")
def on_config_dropped(event, context):
    """S3 'Object Created' under configs/train/ or configs/infer/: validate, then start a run or reject."""
    from chalicelib.intake.handler import handle_config_dropped

    return handle_config_dropped(event, context)


@app.lambda_function(name="on_inference_schedule")
def on_inference_schedule(event, context):
    """The daily or monthly schedule: one inference run per model that asks for it."""
    from chalicelib.inference.schedule import handle_inference_schedule

    return handle_inference_schedule(event, context)


@app.lambda_function(name="on_pipeline_status")
def on_pipeline_status(event, context):
    """SageMaker pipeline status change: answer the workflow waiting for that pipeline."""
    from chalicelib.pipeline_status.handler import handle_pipeline_status

    return handle_pipeline_status(event, context)


# --- People (SQS event source mappings in infra/resources.json) ---------------


@app.lambda_function(name="alerts")
def alerts(event, context):
    """Failures and notifications queues: each message to Slack and SNS once."""
    from chalicelib.alerts.handler import handle_alerts

    return handle_alerts(event, context)


@app.lambda_function(name="check_daily_freshness")
def check_daily_freshness(event, context):
    """Hourly: tell people about models with no successful daily run for 36 hours."""
    from chalicelib.inference.freshness import handle_daily_freshness

    return handle_daily_freshness(event, context)


# --- Workflow steps (lambda:invoke Tasks in statemachines/) ------------------


@app.lambda_function(name="training_step")
def training_step(event, context):
    """A Lambda step of the training state machine."""
    from chalicelib.training.handler import handle_training_step

    return handle_training_step(event, context)


@app.lambda_function(name="inference_step")
def inference_step(event, context):
    """A Lambda step of the inference state machine."""
    from chalicelib.inference.handler import handle_inference_step

    return handle_inference_step(event, context)


# --- Operations --------------------------------------------------------------


@app.lambda_function(name="resume_run")
def resume_run(event, context):
    """Resume a failed run from its failed step: {"run_id": ..., "config": optional fixed config ref}."""
    from chalicelib.resume.handler import handle_resume

    return handle_resume(event, context)


@app.lambda_function(name="decide_model")
def decide_model(event, context):
    """Approve, reject or roll back a model version: from `mlrelay models`, or a registry state-change event."""
    from chalicelib.approvals.handler import handle_model_decision

    return handle_model_decision(event, context)
