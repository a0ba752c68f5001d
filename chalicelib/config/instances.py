"""The SageMaker instance types a config may name, with what each has.

One table: config validation accepts these names only, the embedded stack limits a job's memory to its
type's, and mlrelay/prices.json prices each (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instance:
    vcpus: int
    memory_gib: int
    gpus: int = 0


INSTANCE_TYPES = {
    "ml.m5.large": Instance(2, 8), "ml.m5.xlarge": Instance(4, 16), "ml.m5.2xlarge": Instance(8, 32),
    "ml.m5.4xlarge": Instance(16, 64), "ml.c5.xlarge": Instance(4, 8), "ml.c5.2xlarge": Instance(8, 16),
    "ml.g5.xlarge": Instance(4, 16, gpus=1), "ml.g5.2xlarge": Instance(8, 32, gpus=1),
}
