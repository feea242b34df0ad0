"""How the front doors (the gateway, the event source pollers) learn cheaply that Lambda or
API Gateway configuration changed: the emulator moves a counter on every mutating request to
those services, and a reader re-reads configuration only when the value it last saw moved."""

import threading


class ChangeCounter:
    """Counts configuration changes; readers compare against the value they last saw."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self._value += 1

    @property
    def value(self) -> int:
        return self._value
