"""Lambda resource policies on the local emulator change one at a time, as AWS changes them.

moto's Policy.add_statement/del_statement change a function's statement list in place, and
moto's server answers requests on many threads. Terraform adds and removes one permission per
route in parallel (the HTTP API module has one per route): a removal that iterates the list
while another removes from it can skip its statement and answer "not found", leaving the
statement behind (Terraform then waits for it to go, and fails). Here the changes of all
policies take one lock, so each sees the list as the last one left it.

Patches the pinned moto's internals (moto.awslambda.policy.Policy).
"""

import functools
import threading
from typing import Any

_lock = threading.RLock()
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.awslambda.policy import Policy

    for name in ("add_statement", "del_statement"):
        original = getattr(Policy, name)

        @functools.wraps(original)
        def one_at_a_time(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return _original(self, *args, **kwargs)

        setattr(Policy, name, one_at_a_time)
    _installed = True
