"""A function as the control plane reads it, and a runtime's settings, for the runtime's unit
tests."""

from pathlib import Path

from local_stage.control_plane import Function
from local_stage.runtime.service import RuntimeSettings


def runtime_settings(root: Path) -> RuntimeSettings:
    """A runtime keeping its code, venvs and build directory under `root`."""
    return RuntimeSettings(
        root=root,
        runtimes=root / "runtimes",
        build_dir=root / "build",
        region="us-east-1",
        endpoints={},
        credentials=("k", "s"),
    )


def a_function(name: str = "f", *, timeout: int = 3, code_sha256: str = "c2hh") -> Function:
    """A python3.12 function of 128 MB named `name`, no layers, no reserved concurrency."""
    return Function(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler=f"{name}.handler",
        runtime="python3.12",
        timeout=timeout,
        memory=128,
        environment={},
        code_sha256=code_sha256,
        layers=(),
        reserved_concurrency=None,
    )
