"""The one place that runs Terraform: python-terraform, wrapped to close its known gaps.

python-terraform (0.10.1, unmaintained) builds Terraform command lines well, but:
- `destroy()` passes `-force`, which Terraform >= 0.15 removed: we never call it (a destroy
  is `plan -destroy` into a plan file, shown and confirmed, then `apply` of that plan);
- a dict of variables becomes a temporary var-file (written empty in some paths): we only
  ever pass var-files;
- it inherits `os.environ` wholesale and can only capture *or* stream output: we run the
  command ourselves with an explicit environment, streaming each line live while keeping the
  tail, so Terraform's own error message reaches the user and the exception.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from layer_builder.errors import UserError

MIN_VERSION = (1, 5, 0)
_TAIL_LINES = 60

Sink = Callable[[str], None]


class TerraformError(UserError):
    """Terraform is missing, too old, or a command failed (message includes its output)."""


class TerraformInterrupted(TerraformError):
    """The user (Ctrl-C) or the system (SIGTERM) stopped a Terraform command midway."""


# How long a plan or apply waits for the state lock: a rerun after the tooling was killed
# waits for the apply that is still finishing on its own instead of failing.
LOCK_TIMEOUT = "300s"
_POLL_S = 0.05


class _Interrupts:
    """Ctrl-C or SIGTERM while Terraform runs. Terraform runs in a session of its own and
    writes to a file, not to a pipe, so it never dies with us: a killed deploy leaves an apply
    that finishes and records its state (the rerun waits for its state lock).

    A first signal during `apply` lets the apply finish (stopping a create midway can leave a
    resource that exists but is not in the state, which no rerun can fix); a second signal, or
    the first during any other command, asks Terraform to stop at a safe point (SIGINT)."""

    def __init__(self, process: subprocess.Popen, finish_first: bool, notify: Sink | None):
        self.process = process
        self.finish_first = finish_first
        self.notify = notify
        self.received = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.received += 1
        if self.finish_first and self.received == 1:
            if self.notify is not None:
                self.notify(
                    "\ninterrupted: letting Terraform finish this apply so that its state stays "
                    "true; interrupt again to stop it now\n"
                )
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    @contextlib.contextmanager
    def installed(self) -> Iterator["_Interrupts"]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signal handlers can only be set on the main thread
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def stderr_sink(line: str) -> None:
    sys.stderr.write(line)
    sys.stderr.flush()


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str  # the whole combined stdout/stderr


class TerraformRunner:
    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str],
        *,
        binary: str | None = None,
        sink: Sink | None = stderr_sink,
    ) -> None:
        self.workdir = workdir
        self.env = dict(env)
        self.binary = binary or find_terraform()
        self.sink = sink
        self._builder = Terraform(working_dir=str(workdir), terraform_bin_path=self.binary)

    # -- commands -------------------------------------------------------------------------
    def version(self) -> tuple[int, int, int]:
        out = self._run(["version", "-json"], stream=False).output
        text = json.loads(out).get("terraform_version", "0.0.0")
        return _parse_version(text)

    def init(self, backend: bool = True, backend_config: Path | None = None) -> None:
        options: dict[str, Any] = {"input": False, "no_color": IsFlagged}
        if not backend:
            options["backend"] = False
        if backend_config is not None:
            options["backend_config"] = [str(backend_config)]
            options["reconfigure"] = IsFlagged
        self._check(self._run(self._command("init", **options)), "init")

    def validate(self) -> None:
        self._check(self._run(self._command("validate", no_color=IsFlagged)), "validate")

    def plan(
        self,
        var_files: Sequence[Path],
        out: Path,
        *,
        destroy: bool = False,
        replace: Sequence[str] = (),
    ) -> bool:
        """Write a plan to `out`; True when it changes anything."""
        options: dict[str, Any] = {
            "input": False,
            "no_color": IsFlagged,
            "lock_timeout": LOCK_TIMEOUT,
            "detailed_exitcode": IsFlagged,
            "var_file": [str(path) for path in var_files],
            "out": str(out),
        }
        if replace:
            options["replace"] = list(replace)
        if destroy:
            options["destroy"] = IsFlagged
        result = self._run(self._command("plan", **options))
        if result.returncode == 0:
            return False
        if result.returncode == 2:
            return True
        raise self._failure("plan", result)

    def apply(self, plan_file: Path) -> None:
        command = self._command(
            "apply",
            str(plan_file),
            input=False,
            no_color=IsFlagged,
            auto_approve=IsFlagged,
            lock_timeout=LOCK_TIMEOUT,
        )
        self._check(self._run(command), "apply")

    def outputs(self) -> dict[str, Any]:
        result = self._run(
            self._command("output", json=IsFlagged, no_color=IsFlagged), stream=False
        )
        self._check(result, "output")
        return {name: item.get("value") for name, item in json.loads(result.output or "{}").items()}

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        result = self._run(
            self._command("show", str(plan_file), json=IsFlagged, no_color=IsFlagged), stream=False
        )
        self._check(result, "show")
        return json.loads(result.output)

    def fmt_check(self, path: Path) -> None:
        command = self._command(
            "fmt", str(path), check=IsFlagged, recursive=IsFlagged, diff=IsFlagged
        )
        self._check(self._run(command), "fmt -check")

    # -- plumbing ---------------------------------------------------------------------------
    def _command(self, name: str, *args: str, **options: Any) -> list[str]:
        # python-terraform turns options into flags (`no_color=IsFlagged` -> `-no-color`,
        # lists -> repeated flags); its first element is the binary, which we add ourselves.
        return self._builder.generate_cmd_string(name, *args, **options)[1:]

    def _run(self, args: list[str], *, stream: bool = True) -> Result:
        if not stream:  # a short read-only command (version, output, show): stdout alone
            done = subprocess.run(
                [self.binary, *args],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            output = done.stdout if done.returncode == 0 else done.stdout + done.stderr
            return Result(done.returncode, output)
        output_path = self.workdir / f".terraform-{args[0]}.out"
        with output_path.open("w+", encoding="utf-8", errors="replace") as output:
            process = subprocess.Popen(
                [self.binary, *args],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            interrupts = _Interrupts(process, args[0] == "apply", self.sink)
            with interrupts.installed():
                text = self._follow(process, output)
        output_path.unlink(missing_ok=True)
        result = Result(process.returncode, text)
        if interrupts.received:
            raise TerraformInterrupted(
                f"interrupted: `terraform {args[0]}` ended (exit {result.returncode}) after "
                "recording the state of what it had done; run the same command again to finish"
            )
        return result

    def _follow(self, process: subprocess.Popen, output: Any) -> str:
        """Terraform's output as it writes it (each line to the sink), until it exits."""
        read_from, seen, pending = 0, [], ""
        while True:
            finished = process.poll() is not None
            output.seek(read_from)
            chunk = output.read()
            read_from = output.tell()
            pending += chunk
            *lines, pending = pending.split("\n")
            for line in lines:
                seen.append(line + "\n")
                if self.sink is not None:
                    self.sink(line + "\n")
            if finished:
                break
            if not chunk:
                time.sleep(_POLL_S)
        if pending:
            seen.append(pending)
            if self.sink is not None:
                self.sink(pending)
        return "".join(seen)

    def _check(self, result: Result, what: str) -> None:
        if result.returncode != 0:
            raise self._failure(what, result)

    def _failure(self, what: str, result: Result) -> TerraformError:
        tail = "".join(deque(result.output.splitlines(keepends=True), maxlen=_TAIL_LINES))
        errors = _error_summaries(result.output)
        summary = f": {'; '.join(errors)}" if errors else ""
        return TerraformError(
            f"terraform {what} failed (exit {result.returncode}){summary}\n{tail.rstrip()}"
        )


def find_terraform() -> str:
    """The Terraform binary: $CODEGEN_TERRAFORM, else `terraform` on PATH."""
    configured = os.environ.get("CODEGEN_TERRAFORM")
    if configured:
        if not (Path(configured).is_file() and os.access(configured, os.X_OK)):
            raise TerraformError(f"CODEGEN_TERRAFORM={configured} is not an executable file")
        return configured
    found = shutil.which("terraform")
    if found is None:
        raise TerraformError(
            "Terraform is not installed (no `terraform` on PATH). Install Terraform >= 1.5 "
            "(https://developer.hashicorp.com/terraform/install) or set CODEGEN_TERRAFORM to "
            "its path"
        )
    return found


def check_version(
    runner: TerraformRunner, needs: tuple[tuple[int, int, int], str] | None = None
) -> tuple[int, int, int]:
    """Terraform's version; TerraformError when it is older than the tool's minimum, or
    than what `needs` says the stage's backend takes (a version and why)."""
    version = runner.version()
    have = ".".join(map(str, version))
    if version < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        raise TerraformError(f"Terraform {have} is too old: install {wanted} or newer")
    if needs is not None and version < needs[0]:
        wanted = ".".join(map(str, needs[0]))
        raise TerraformError(
            f"Terraform {have} is too old for this stage's state backend: {needs[1]}, which "
            f"needs Terraform {wanted} or newer. Install it, or drop use_lockfile (and lock "
            "the state another way)"
        )
    return version


def _parse_version(text: str) -> tuple[int, int, int]:
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]] + [0, 0, 0]
    return numbers[0], numbers[1], numbers[2]


def _error_summaries(output: str) -> list[str]:
    return [match.strip() for match in re.findall(r"Error: ([^\n]+)", output)][:3]
