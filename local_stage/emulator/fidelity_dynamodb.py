"""DynamoDB's writes on the local emulator are atomic, as DynamoDB's are.

DynamoDB applies a conditional write (and a transaction's every write) atomically: its
condition is checked against the item as it is at that moment, and no other write to the item
comes in between. moto checks the condition, then writes, and moto's server answers requests
on many threads, so two conditional writes to one item can both pass their check and both be
applied. The spend table's budgets depend on it (two concurrent reservations of one caller
must not both fit in what is left), and so does every conditional move of a job record. Here
all of moto's DynamoDB writes take one lock: each runs as if alone, as on DynamoDB.

Patches the pinned moto's internals (moto.dynamodb.models.DynamoDBBackend).
"""

import functools
import threading
from typing import Any

_lock = threading.RLock()
_installed = False
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    _installed = True
