"""The Lambda platform a layer is built for: CPU architecture and Python version."""

import re
from dataclasses import dataclass

from layer_builder.errors import BuildError

# Lambda's architecture names -> the machine names used in wheel platform tags.
_WHEEL_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
# Python runtimes Lambda offers (python3.x identifiers).
SUPPORTED_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34); older ones on
# Amazon Linux 2 (glibc 2.26): wheels built for that glibc or older run there.
_GLIBC_MINOR_FOR_PYTHON = {"3.9": 26, "3.10": 26, "3.11": 26}
_DEFAULT_GLIBC_MINOR = 34
_OLDEST_MANYLINUX_GLIBC_MINOR = 17  # manylinux2014; pip expands that alias to older ones


@dataclass(frozen=True)
class Target:
    """A validated (architecture, Python version) pair; the stage decides both."""

    arch: str
    python_version: str

    def __post_init__(self) -> None:
        if self.arch not in _WHEEL_MACHINE:
            raise BuildError(
                f"unknown architecture {self.arch!r}: Lambda supports "
                f"{', '.join(sorted(_WHEEL_MACHINE))}; pass --arch x86_64 or --arch arm64"
            )
        if not re.fullmatch(r"3\.\d{1,2}", self.python_version):
            raise BuildError(
                f"python version {self.python_version!r} is not of the form 3.N "
                f"(e.g. --python 3.12)"
            )
        if self.python_version not in SUPPORTED_PYTHONS:
            raise BuildError(
                f"python {self.python_version} is not a Lambda runtime; use one of "
                f"{', '.join(SUPPORTED_PYTHONS)}"
            )

    @property
    def wheel_machine(self) -> str:
        return _WHEEL_MACHINE[self.arch]

    @property
    def glibc_minor(self) -> int:
        return _GLIBC_MINOR_FOR_PYTHON.get(self.python_version, _DEFAULT_GLIBC_MINOR)

    @property
    def platform_tag(self) -> str:
        """The newest platform tag the runtime accepts (named in messages)."""
        return f"manylinux_2_{self.glibc_minor}_{self.wheel_machine}"

    @property
    def platform_tags(self) -> list[str]:
        """Every tag pip should accept, newest first.

        pip does not expand `manylinux_2_N` to older glibc versions by itself (it only
        expands the legacy `manylinux2014` alias), so list them all.
        """
        minors = range(self.glibc_minor, _OLDEST_MANYLINUX_GLIBC_MINOR - 1, -1)
        tags = [f"manylinux_2_{minor}_{self.wheel_machine}" for minor in minors]
        return [*tags, f"manylinux2014_{self.wheel_machine}"]

    @property
    def python_nodot(self) -> str:
        return self.python_version.replace(".", "")

    @property
    def runtime(self) -> str:
        """Lambda's runtime identifier, e.g. python3.12."""
        return f"python{self.python_version}"

    @property
    def label(self) -> str:
        """Short name used in file names, e.g. x86_64-py3.12."""
        return f"{self.arch}-py{self.python_version}"
