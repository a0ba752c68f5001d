"""Which runs read an S3 table: one small document per (table URI, run), under lineage/inputs/<digest of the URI>/.

`mlrelay lineage data URI` lists one prefix to answer "which model versions trained on this object, which
inference runs read it"; the documents are written by the training run's registration and by the inference run's
Prepare step (chalicelib/training/lineage.py, chalicelib/inference/steps.py).
"""

from __future__ import annotations

import hashlib

LINEAGE_PREFIX = "lineage/inputs"


def normalized(uri: str) -> str:
    """A table URI as the index keys it: a prefix with or without its trailing slash is one table."""
    return uri.rstrip("/")


def index_prefix(uri: str) -> str:
    return f"{LINEAGE_PREFIX}/{hashlib.sha256(normalized(uri).encode()).hexdigest()[:32]}/"


def index_key(uri: str, run_id: str) -> str:
    return f"{index_prefix(uri)}{run_id}.json"
