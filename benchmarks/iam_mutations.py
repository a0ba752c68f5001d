"""Mutation test of the template's roles: does removing one action from one role fail a functional test?

For a seeded random sample of the (role, action) pairs the template writes (`kms:GenerateDataKey*` is one
action) and the last functional run's census says were used, a copy of infra/resources.json loses that
action from that role, and the tests that used it run against the copy (MLRELAY_INFRA_TEMPLATE). A mutation
is killed when a test fails with AccessDenied naming that role and that action. Prints each mutation and the
kill rate.

    make test            # or: python -m pytest -n 2 --dist loadfile tests/functional (writes build/iam-census)
    python benchmarks/iam_mutations.py [--sample 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlrelay.iam_check import statements  # noqa: E402
from mlrelay.local.stack import TEMPLATE_ENV  # noqa: E402

STAGE_PREFIX = "mlrelay-dev-"
TESTS_PER_MUTATION = 2  # the first tests that used the action: one failing is enough


def used_pairs(census_dir: Path) -> dict[tuple[str, str], list[str]]:
    """(role name without the stage, action called) -> the tests that called it, from every worker's census."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(census_dir.glob("*.json")):
        for role, entry in json.loads(path.read_text()).items():
            if role == "denials":
                continue
            for action, tests in entry.get("tests_by_action", {}).items():
                found[(role.removeprefix(STAGE_PREFIX), action)].update(tests)
    return {pair: sorted(tests) for pair, tests in found.items() if tests}


def written_pairs(template: dict[str, Any], called: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[str]]:
    """(role, action as the template writes it) -> the tests that called an action it covers."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for role in {role for role, _ in called}:
        for body in role_statements(template, role):
            for written in [body["Action"]] if isinstance(body["Action"], str) else body["Action"]:
                for (called_role, action), tests in called.items():
                    if called_role == role and fnmatch.fnmatchcase(action.lower(), written.lower()):
                        found[(role, written)].update(tests)
    return {pair: sorted(tests) for pair, tests in found.items()}


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The statements of the role named `role` (without the stage), each as written (a conditional one's body):
    the very dictionaries of `template`, so that changing one changes the template."""
    if role == "sagemaker-execution":
        owner = "SageMakerExecutionRole"
    elif role.endswith("StateMachineRole"):
        owner = role.removesuffix("Role")  # SAM's role of a state machine: its Policies are the machine's
    else:
        owner = role
    return [statement for name, statement in statements(template) if name == owner]


def without_action(template: dict[str, Any], role: str, action: str) -> dict[str, Any]:
    """The template with `action` gone from every statement of the role (one left with no action denies nothing:
    it names an action no call is)."""
    mutated = json.loads(json.dumps(template))
    for body in role_statements(mutated, role):
        actions = [body["Action"]] if isinstance(body["Action"], str) else body["Action"]
        if action in actions:
            body["Action"] = [a for a in actions if a != action] or ["mlrelay:RemovedByTheMutation"]
    return mutated


def killed(role: str, action: str, tests: list[str], template_path: Path) -> tuple[bool, float, str]:
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests[:TESTS_PER_MUTATION]]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, TEMPLATE_ENV: str(template_path)}, timeout=900)
    output = result.stdout + result.stderr
    called = action.rstrip("*")  # the denial names the action called: kms:GenerateDataKey for kms:GenerateDataKey*
    named = f"{STAGE_PREFIX}{role}" in output and called in output and "not authorized to perform" in output
    return result.returncode != 0 and named, time.perf_counter() - started, tests[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--census", type=Path, default=ROOT / "build" / "iam-census")
    args = parser.parse_args()
    called = used_pairs(args.census)
    if not called:
        print(f"no census in {args.census}: run the functional tests first", file=sys.stderr)
        return 2
    template = json.loads((ROOT / "infra" / "resources.json").read_text())
    pairs = written_pairs(template, called)
    sample = random.Random(args.seed).sample(sorted(pairs), min(args.sample, len(pairs)))
    print(f"{len(pairs)} (role, action) pairs used by the functional tests; {len(sample)} mutated (seed {args.seed})")
    kills = 0
    with tempfile.TemporaryDirectory() as work:
        for role, action in sample:
            path = Path(work) / f"{role}-{action.replace(':', '-')}.json"
            path.write_text(json.dumps(without_action(template, role, action)))
            dead, seconds, test = killed(role, action, pairs[(role, action)], path)
            kills += dead
            print(f"{'killed ' if dead else 'SURVIVED'} {role:32} {action:45} {seconds:6.1f}s  {test}")
    print(f"kill rate: {kills}/{len(sample)} ({kills / len(sample):.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
