"""Function logs, as Lambda writes them: START / lines / END / REPORT, per request id."""

import threading
import time
from pathlib import Path


class FunctionLog:
    """Appends to `<logs>/<function>.log`; each line carries the time and the request id."""

    def __init__(self, directory: Path, function_name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{function_name}.log"
        self._lock = threading.Lock()

    def write(self, request_id: str, line: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp}Z\t{request_id or '-'}\t{line.rstrip()}\n")
