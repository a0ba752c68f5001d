"""`mlrelay doctor`: does a stage's stack work? Each check reads the stack's services and says ✓ or ✗ and what to do.

The same checks run on the embedded stack and on a deployed one (mlrelay/doctor/expected.py reads what the
stack should hold from the committed template); `--canary` also runs a tiny model end to end (canary.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlrelay.doctor import checks
from mlrelay.doctor.checks import Finding
from mlrelay.doctor.expected import ExpectedStack


def run_checks(
    client: Callable[[str], Any], expected: ExpectedStack, region: str, outputs: dict[str, str], redeploy: str,
    send_test: bool = False,
) -> Iterator[Finding]:
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("the stack", lambda: [checks.stack_status(client("cloudformation"), expected, redeploy)]),
        ("the bucket's events", lambda: [checks.bucket_sends_events(client("s3"), expected)]),
        ("the rules", lambda: checks.rules(client("events"), expected, redeploy)),
        ("the functions", lambda: [checks.functions(client("lambda"), client("cloudformation"), expected, redeploy)]),
        ("the Slack parameter", lambda: checks.slack_parameter(client("ssm"), expected, send_test)),
        ("the warehouse", lambda: checks.warehouse(client("redshift-data"), outputs)),
        ("the pipelines", lambda: checks.pipelines(client("sagemaker"), expected, redeploy)),
        ("the images", lambda: [checks.images(client("s3"), expected, region)]),
        ("concurrency", lambda: [checks.concurrency(client("lambda"))]),
    ]
    for name, step in steps:
        try:
            yield from step()
        except (ClientError, BotoCoreError) as err:
            yield Finding(False, f"cannot check {name}: {err}", "doctor needs read access to the stack's services (docs/deploy.md)")
        except Exception as err:  # one check that cannot run must not hide the others' answers
            yield Finding(False, f"cannot check {name}: {type(err).__name__}: {err}", "see the message; the other checks ran")
