"""What `invoke call --async` shows while it polls a job: one line per status change, and on
a terminal the elapsed time on that line as it grows."""

from typing import Any, TextIO


class JobProgress:
    def __init__(self, job_url: str, stream: TextIO) -> None:
        self.job_url = job_url
        self.stream = stream
        self._live = stream.isatty()
        self._status: str | None = None
        self._open_line = False

    def show(self, job: dict[str, Any], elapsed: float) -> None:
        status = str(job.get("status", "?"))
        line = f"job {job.get('job_id', '?')}: {status} ({elapsed:.0f} s)"
        if status != self._status:
            self._end_line()
            self._status = status
            if self._live:
                self.stream.write(line)
                self._open_line = True
            else:
                self.stream.write(line + "\n")
        elif self._live:
            self.stream.write("\r" + line)
        self.stream.flush()

    def close(self) -> None:
        self._end_line()
        self.stream.flush()

    def _end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False
