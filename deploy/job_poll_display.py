"""What `invoke call --async` shows while it polls a job: one line per status change (and per
new count of tokens the model has written so far), and on a terminal the elapsed time and
the count on that line as they grow."""

from typing import Any, TextIO


class JobPollDisplay:
    def __init__(self, job_url: str, stream: TextIO) -> None:
        self.job_url = job_url
        self.stream = stream
        self._live = stream.isatty()
        self._shown: tuple[str, int | None] | None = None
        self._open_line = False

    def show(self, job: dict[str, Any], elapsed: float) -> None:
        status = str(job.get("status", "?"))
        tokens = _tokens_so_far(job)
        line = f"job {job.get('job_id', '?')}: {status} ({elapsed:.0f} s)"
        if tokens is not None:
            line = f"{line}, ~{tokens} tokens written"
        new_status = self._shown is None or status != self._shown[0]
        changed = (status, tokens) != self._shown
        self._shown = (status, tokens)
        if self._live:  # a terminal: a line per status, rewritten as it grows
            if new_status:
                self._end_line()
                self.stream.write(line)
                self._open_line = True
            else:
                self.stream.write("\r" + line)
        elif changed:  # a log: a line per change worth reading
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._end_line()
        self.stream.flush()

    def _end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False


def _tokens_so_far(job: dict[str, Any]) -> int | None:
    """The running job's output tokens so far (an estimate the service records as the model
    writes), if it says."""
    progress = job.get("progress")
    tokens = progress.get("output_tokens") if isinstance(progress, dict) else None
    return tokens if isinstance(tokens, int) else None
