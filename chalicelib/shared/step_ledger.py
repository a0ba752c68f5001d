"""Lambda steps record themselves in the run ledger, and skip work they already did.

A step that already succeeded for this run with the same input returns its
recorded output instead of working again (a retry after a lost response, a
redrive, a resumed run that passes through it). Its status, attempt count,
times and output (or an S3 pointer when the output is large) are in the
run's ledger item under steps.<step>.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.aws.run_ledger import MAX_INLINE_OUTPUT
from chalicelib.shared.observability import logger
from chalicelib.shared.pipeline_runs import run_prefix
from chalicelib.shared.port_roles import StepLedgerPorts

MAX_STEP_OUTPUT_BYTES = 1024 * 1024


def recorded(ports: StepLedgerPorts, event: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    run_id, step = str(event["run_id"]), str(event["step"])
    fingerprint = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
    earlier = ports.runs.step(run_id, step)
    if earlier.get("status") == "SUCCEEDED" and earlier.get("input_sha256") == fingerprint:
        logger.info("step already done for this run; returning its recorded output", extra={"run_id": run_id, "step": step})
        return _recorded_output(ports, earlier)
    attempts = int(earlier.get("attempts", 0)) + 1
    entry: dict[str, Any] = {"attempts": attempts, "started_at": _now(), "input_sha256": fingerprint}
    try:
        output = work()
    except Exception as err:
        failed = {**entry, "status": "FAILED", "ended_at": _now(), "error": f"{type(err).__name__}: {err}"[:1000]}
        ports.runs.record_step(run_id, step, failed)
        raise
    text = json.dumps(output, sort_keys=True, default=str)
    entry.update(status="SUCCEEDED", ended_at=_now())
    if len(text.encode()) <= MAX_INLINE_OUTPUT:
        entry["output"] = text
    else:  # a DynamoDB item holds 400 KB; a Step Functions payload 256 KB
        key = f"{run_prefix(str(event['model_name']), run_id)}/steps/{step}.json"  # every step's payload names the run's model
        ports.s3.put_json(ports.artifact_bucket, key, output)
        entry["output_uri"] = f"s3://{ports.artifact_bucket}/{key}"
    ports.runs.record_step(run_id, step, entry)
    return output


def _recorded_output(ports: StepLedgerPorts, entry: dict[str, Any]) -> dict[str, Any]:
    if "output" in entry:
        return json.loads(entry["output"])
    bucket, key = entry["output_uri"].removeprefix("s3://").split("/", 1)
    return ports.s3.read_json(bucket, key, MAX_STEP_OUTPUT_BYTES)


def _now() -> str:
    return datetime.now(UTC).isoformat()
