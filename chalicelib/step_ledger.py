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
from datetime import datetime, timezone
from typing import Any

from chalicelib import settings
from chalicelib.aws.run_ledger import MAX_INLINE_OUTPUT, RunLedger
from chalicelib.aws.s3 import S3Objects
from chalicelib.observability import logger

MAX_STEP_OUTPUT_BYTES = 1024 * 1024


def recorded(event: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    run_id, step = str(event["run_id"]), str(event["step"])
    fingerprint = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()
    ledger = RunLedger(settings.runs_table())
    earlier = ledger.step(run_id, step)
    if earlier.get("status") == "SUCCEEDED" and earlier.get("input_sha256") == fingerprint:
        logger.info("step already done for this run; returning its recorded output", extra={"run_id": run_id, "step": step})
        return _recorded_output(earlier)
    attempts = int(earlier.get("attempts", 0)) + 1
    entry: dict[str, Any] = {"attempts": attempts, "started_at": _now(), "input_sha256": fingerprint}
    try:
        output = work()
    except Exception as err:
        ledger.record_step(run_id, step, {**entry, "status": "FAILED", "ended_at": _now(), "error": f"{type(err).__name__}: {err}"[:1000]})
        raise
    text = json.dumps(output, sort_keys=True, default=str)
    entry.update(status="SUCCEEDED", ended_at=_now())
    if len(text.encode()) <= MAX_INLINE_OUTPUT:
        entry["output"] = text
    else:  # a DynamoDB item holds 400 KB; a Step Functions payload 256 KB
        key = f"runs/{run_id}/steps/{step}.json"
        S3Objects().put_json(settings.artifact_bucket(), key, output)
        entry["output_uri"] = f"s3://{settings.artifact_bucket()}/{key}"
    ledger.record_step(run_id, step, entry)
    return output


def _recorded_output(entry: dict[str, Any]) -> dict[str, Any]:
    if "output" in entry:
        return json.loads(entry["output"])
    bucket, key = entry["output_uri"].removeprefix("s3://").split("/", 1)
    return json.loads(S3Objects().read(bucket, key, None, MAX_STEP_OUTPUT_BYTES).data)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
