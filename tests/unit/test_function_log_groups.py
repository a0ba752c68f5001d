"""A function's log line lands in its own log group, even when another invocation set the shared logger's keys."""

import json
import logging

from mlrelay.local.cloudwatch_logs import CloudWatchLogsHandler
from mlrelay.local.lambda_runtime import LocalFunction, LocalLambdaRuntime


class FakeLogs:
    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self):
        self.events = []

    def create_log_group(self, logGroupName):
        pass

    def create_log_stream(self, logGroupName, logStreamName):
        pass

    def put_log_events(self, logGroupName, logStreamName, logEvents):
        self.events += [(logGroupName, e["message"]) for e in logEvents]


def test_each_line_goes_to_the_group_of_the_invocation_that_wrote_it():
    logs = FakeLogs()
    handler = CloudWatchLogsHandler(lambda: logs, logging.Formatter('{"function_name": "mlrelay-dev-other", "message": "%(message)s"}'),
                                    lambda function, group: True)
    logger = logging.getLogger("test-function-log-groups")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    runtime = LocalLambdaRuntime()
    for name in ("mlrelay-dev-first", "mlrelay-dev-second"):
        runtime.register(LocalFunction(name, lambda event, context: logger.info(event["say"]), 5, 128, f"arn:{name}"))
    try:
        runtime.invoke("mlrelay-dev-first", {"say": "from the first"}, "RequestResponse")
        runtime.invoke("mlrelay-dev-second", {"say": "from the second"}, "RequestResponse")
        logger.info("outside any invocation")
    finally:
        logger.removeHandler(handler)

    assert [(group, json.loads(line)["message"]) for group, line in logs.events] == [
        ("/aws/lambda/mlrelay-dev-first", "from the first"), ("/aws/lambda/mlrelay-dev-second", "from the second"),
        ("/aws/lambda/mlrelay-dev-other", "outside any invocation"),  # no invocation: the line's own function_name
    ]
