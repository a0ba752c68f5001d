"""The IAM census of a functional test run: per role, what it was allowed, and the statements no call used.

The functional tests write build/iam-census/<worker>.json (tests/functional/conftest.py). This merges
them and fails when a statement is unused and not listed in infra/iam-unexercised.json with the path that
needs it on AWS, or listed there although a test used it (the list would be stale):

    python -m mlrelay.iam_census build/iam-census
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

UNEXERCISED = Path(__file__).resolve().parents[1] / "infra" / "iam-unexercised.json"


def merge(directory: Path) -> dict[str, dict[str, set[str]]]:
    merged: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(directory.glob("*.json")):
        for role, entry in json.loads(path.read_text()).items():
            if role == "denials":
                continue
            merged[role]["allowed"].update(entry["allowed"])
            merged[role]["used"].update(entry["used_statements"])
            merged[role]["statements"].update(entry["statements"])
    return merged


def statement_key(source: str) -> str:
    """ROLE/POLICY/SID without the stage, as infra/iam-unexercised.json names it: LogicalRole/Sid."""
    role, _, rest = source.partition("/")
    return f"{role.split('-', 2)[-1]}/{rest.rsplit('/', 1)[-1]}"


def report(directory: Path, unexercised: dict[str, str]) -> tuple[list[str], list[str]]:
    lines, problems = [], []
    used_keys: set[str] = set()
    for role, entry in sorted(merge(directory).items()):
        # statements a test swapped in (tests/functional/test_iam_findings.py) are not the template's as deployed
        used = entry["used"] & entry["statements"]
        unused = sorted(entry["statements"] - used)
        actions = {a.split(" ", 1)[0] for a in entry["allowed"]}
        lines.append(f"{role}: {len(entry['allowed'])} (action, resource) pairs, {len(actions)} actions; "
                     f"{len(used)} of {len(entry['statements'])} statements used")
        used_keys |= {statement_key(s) for s in used}
        for source in unused:
            key = statement_key(source)
            reason = unexercised.get(key)
            lines.append(f"  unused {key}: {reason or 'NOT LISTED'}")
            if reason is None:
                problems.append(f"{key} is used by no test: exercise it, remove it, or list it in {UNEXERCISED.name} with why")
    problems += [f"{key} is listed in {UNEXERCISED.name} but a test used it: remove it from the list"
                 for key in sorted(set(unexercised) & used_keys)]
    return lines, problems


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else Path("build/iam-census")
    if not any(directory.glob("*.json")):
        print(f"no census in {directory}: run the functional tests first", file=sys.stderr)
        return 2
    unexercised = {k: v for k, v in json.loads(UNEXERCISED.read_text()).items() if not k.startswith("_")}
    lines, problems = report(directory, unexercised)
    print("\n".join(lines))
    for problem in problems:
        print(f"✗ {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
