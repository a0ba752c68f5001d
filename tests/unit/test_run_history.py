from datetime import datetime, timedelta

from mlrelay.runs import steps_from_history

T0 = datetime(2026, 11, 23, 3, 0, 0)


def event(kind, seconds, **details):
    entry = {"type": kind, "timestamp": T0 + timedelta(seconds=seconds)}
    entry.update(details)
    return entry


def entered(kind, name, seconds):
    return event(f"{kind}StateEntered", seconds, stateEnteredEventDetails={"name": name})


def test_a_failed_task_caught_into_the_failure_path():
    history = [
        event("ExecutionStarted", 0),
        entered("Task", "LoadTrainingConfig", 1),
        event("TaskScheduled", 1),
        event("TaskFailed", 2, taskFailedEventDetails={"error": "NotFoundError", "cause": "gone"}),
        event("TaskStateExited", 2),
        entered("Task", "ReportFailure", 3),
        event("TaskScheduled", 3),
        event("TaskSucceeded", 3),
        event("TaskStateExited", 3),
        entered("Fail", "RunFailed", 4),
        event("ExecutionFailed", 4, executionFailedEventDetails={"error": "NotFoundError"}),
    ]

    steps = steps_from_history(history)

    assert [(s.name, s.status) for s in steps] == [
        ("LoadTrainingConfig", "caught"),
        ("ReportFailure", "succeeded"),
        ("RunFailed", "failed"),
    ]
    assert steps[0].error == "NotFoundError" and steps[0].cause == "gone"


def test_a_retried_task_that_then_succeeds_counts_its_attempts():
    history = [
        entered("Task", "LoadTrainingConfig", 0),
        event("TaskScheduled", 0),
        event("TaskFailed", 1, taskFailedEventDetails={"error": "Lambda.ServiceException"}),
        event("TaskScheduled", 3),
        event("TaskSucceeded", 4),
        event("TaskStateExited", 4),
    ]

    (step,) = steps_from_history(history)

    assert (step.status, step.attempts, step.error) == ("succeeded", 2, None)
    assert step.exited - step.entered == timedelta(seconds=4)


def test_a_state_still_running():
    (step,) = steps_from_history([entered("Task", "Train", 0), event("TaskScheduled", 0)])

    assert step.status == "running" and step.exited is None
