"""A function as the control plane reads it, for the runtime's unit tests."""

from local_stage.control_plane import Function


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
