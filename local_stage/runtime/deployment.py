"""A function's deployed code and layers on disk, as the emulator holds them: each zip
unpacked once per content hash (local_stage/runtime/code_store.py), in the worker's Python."""

from pathlib import Path

from local_stage.control_plane import Function
from local_stage.emulator.backends import deployed_code, deployed_layer
from local_stage.runtime.code_store import CodeStore


def unpack_function(
    store: CodeStore, function: Function, python: Path, region: str
) -> tuple[Path, list[Path]]:
    """(the function's code directory, its layers' directories, in the function's order)."""
    task_dir = store.unpacked(
        f"code of {function.name}",
        function.code_sha256,
        lambda: deployed_code(function.name, region),
        python,
    )
    layer_dirs = []
    for layer in function.layers:
        name, version = layer.name_and_version
        layer_dirs.append(
            store.unpacked(
                f"layer {layer.arn}",
                layer.code_sha256,
                lambda n=name, v=version: deployed_layer(n, v, region),
                python,
            )
        )
    return task_dir, layer_dirs
