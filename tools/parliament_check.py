"""parliament over the packaged template's resolved policies: 0 findings, except those listed with a reason.

Runs in the security venv (parliament pins libraries of its own):
    .venv-security/bin/python tools/parliament_check.py build/package/prod/policies.json
"""

from __future__ import annotations

import json
import sys

from parliament import analyze_policy_string

# (issue, action or "") -> why it is accepted; each is a limit of parliament's data, not of the policy.
ACCEPTED = {
    ("RESOURCE_MISMATCH", "states:DescribeExecution"): "parliament 1.6.4's data lists only the express execution ARN for "
    "states:DescribeExecution; the Service Authorization Reference lists the standard execution ARN the policy names",
    ("RESOURCE_MISMATCH", "sagemaker:AddAssociation"): "the reference lists five resource types for "
    "sagemaker:AddAssociation, any two of which an association joins; the training step only associates lineage artifacts "
    "with its stage's contexts (chalicelib/aws/sagemaker_lineage.py), the two the policy names",
}


def main(path: str) -> int:
    policies = json.load(open(path))
    findings = []
    for name, document in sorted(policies.items()):
        for finding in analyze_policy_string(json.dumps(document), include_community_auditors=False).findings:
            details = finding.detail if isinstance(finding.detail, list) else [finding.detail]
            action = details[0].get("action", "") if details and isinstance(details[0], dict) else str(details[0] if details else "")
            key = (finding.issue, action)
            if key in ACCEPTED:
                continue
            findings.append(f"{name}: {finding.issue} {finding.detail} {finding.location or ''}")
    for line in findings:
        print(line)
    print(f"parliament: {len(policies)} policies, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
