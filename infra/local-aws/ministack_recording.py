"""Starts the emulator with every IAM decision it makes written down.

Run with the emulator's own Python (start.sh does, when MINISTACK_RECORD_CALLS is set). It wraps
the emulator's single IAM decision point, ``ministack.core.iam_evaluator.enforce``, and appends
one JSON line per call made by a principal with policies (an assumed role, a user; the account
root is not evaluated by the emulator and is left out):

    {"principal": "arn:aws:sts::…:assumed-role/<role>/<session>", "role": "<role>",
     "service": "dynamodb", "action": "dynamodb:Query", "resource": "arn:aws:dynamodb:…",
     "decision": "Allow" | "ImplicitDeny" | "Deny" | "AuthError"}

The emulator's callers import ``enforce`` from the module inside each request handler, so
replacing the module attribute before the server starts reaches all of them; ``resolve_principal``
is looked up the same way by ``enforce`` itself, which is how the principal is learnt.

Environment:
  MINISTACK_RECORD_CALLS  the file the lines are appended to (required).
  MINISTACK_RECORD_ENFORCE  "true" (default): the emulator's decisions stand, nothing changes
      but the file. "false": every call is let through after its decision is written down, so
      the recording shows what the roles would refuse without the suites stopping at the first
      AccessDenied (AUTH must still be on, so that functions run as their roles).
"""

import contextvars
import json
import os
import sys
import threading

from ministack import app
from ministack.core import iam_evaluator

_record_path = os.environ["MINISTACK_RECORD_CALLS"]
_enforcing = os.environ.get("MINISTACK_RECORD_ENFORCE", "true").lower() == "true"
_write_lock = threading.Lock()
# The principal that the enforce call in progress resolved (None outside of one).
_principal = contextvars.ContextVar("recorded_principal", default=None)

_original_enforce = iam_evaluator.enforce
_original_resolve_principal = iam_evaluator.resolve_principal


def _resolve_principal(*args, **kwargs):
    resolved = _original_resolve_principal(*args, **kwargs)
    slot = _principal.get()
    if slot is not None:
        slot.append(resolved)
    return resolved


def _role_name(principal_arn):
    # arn:aws:sts::<account>:assumed-role/<role>/<session>
    resource = principal_arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if parts[0] == "assumed-role" and len(parts) > 2 else ""


def _decision(result):
    if result is None:
        return "Allow"
    if isinstance(result, iam_evaluator.AuthError):
        return "AuthError"
    return getattr(result, "decision", "Unknown")


def _enforce(access_key_id, iam_action, service, region, resource_arn="*", service_context=None):
    slot = []
    token = _principal.set(slot)
    try:
        result = _original_enforce(access_key_id, iam_action, service, region,
                                   resource_arn=resource_arn, service_context=service_context)
    finally:
        _principal.reset(token)
    principal = next((p for p in slot if isinstance(p, iam_evaluator.PrincipalInfo)), None)
    # Root (no policies) is not evaluated, and calls that AWS never denies (no principal
    # resolved) say nothing about a role.
    if principal is not None and principal.policies is not None:
        line = json.dumps({
            "principal": principal.arn,
            "role": _role_name(principal.arn),
            "service": service,
            "action": iam_action,
            "resource": resource_arn,
            "decision": _decision(result),
        }, sort_keys=True)
        with _write_lock, open(_record_path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return result if _enforcing else None


iam_evaluator.resolve_principal = _resolve_principal
iam_evaluator.enforce = _enforce

if __name__ == "__main__":
    # The emulator's own entry point, as its console script calls it.
    sys.argv[0] = "ministack"
    sys.exit(app.main())
