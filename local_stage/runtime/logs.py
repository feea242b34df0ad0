"""Function logs, as Lambda writes them: START / lines / END / REPORT, per request id.

Each line goes to `<logs>/<function>.log` (time, request id, line), and, when the stage
ships logs, to the emulator's `/aws/lambda/<function>` group in the worker's own stream, as
Lambda writes it (the line itself, timed by the event)."""

import threading
import time
from pathlib import Path

from local_stage.logs.shipper import LogShipper, function_log_group


class FunctionLog:
    def __init__(
        self, directory: Path, function_name: str, shipper: LogShipper | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{function_name}.log"
        self.group = function_log_group(function_name)
        self._shipper = shipper
        self._lock = threading.Lock()

    def write(self, request_id: str, line: str, stream: str | None = None) -> None:
        text = line.rstrip()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp}Z\t{request_id or '-'}\t{text}\n")
        if self._shipper is not None and stream is not None:
            self._shipper.put(self.group, stream, text)
