"""The environment a runtime worker starts with: what Lambda sets for a function (its reserved
variables), the function's own variables, and the endpoints of the local stack."""

import os
import time
from collections.abc import Mapping
from pathlib import Path

from local_stage.control_plane import Function
from local_stage.runtime.interpreter import RuntimeInterpreter


def worker_environment(
    function: Function,
    interpreter: RuntimeInterpreter,
    task: Path,
    layers: list[Path],
    port: int,
    *,
    region: str,
    credentials: tuple[str, str],
    endpoints: Mapping[str, str],
) -> dict[str, str]:
    """Lambda's reserved variables win over the function's own, as on Lambda; the stack's
    AWS_ENDPOINT_URL* come first, so a function may still point elsewhere on purpose."""
    version = interpreter.version
    python_path = [str(task)]
    for layer in layers:  # where Lambda puts a layer's Python packages: /opt/python/...
        python_path += [
            str(layer / "python" / "lib" / f"python{version}" / "site-packages"),
            str(layer / "python"),
        ]
    python_path += [str(path) for path in interpreter.extra_path]  # the runtime's own
    bins = [str(layer / "bin") for layer in layers]
    access_key, secret_key = credentials
    stream = time.strftime("%Y/%m/%d/[$LATEST]") + f"{port:08x}"
    reserved = {
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(interpreter.python.parent.parent),
        "_HANDLER": function.handler,
        "PYTHONPATH": os.pathsep.join(python_path),
        "PATH": os.pathsep.join(
            [*bins, str(interpreter.python.parent), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
    }
    base = {
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONNOUSERSITE": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        **endpoints,
    }
    return {**base, **function.environment, **reserved}
