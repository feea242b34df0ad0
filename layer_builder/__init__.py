"""Build the Lambda layer (boto3 and friends) and the function zip, reproducibly.

Nothing here talks to AWS or Terraform: the deploy package calls this, never the reverse.

The names below are loaded when first used, so that importing one of this package's
standalone modules (`layer_builder.errors`, whose UserError every package raises, or
`layer_builder.atomic`) does not import the builder itself.
"""

import importlib
from typing import Any

_EXPORTS = {
    "BUILDER_VERSION": "layer_builder.version",
    "BuildError": "layer_builder.errors",
    "BuildResult": "layer_builder.result",
    "FunctionPackageRequest": "layer_builder.function",
    "LayerBuildRequest": "layer_builder.layer",
    "Manifest": "layer_builder.manifest",
    "Target": "layer_builder.targets",
    "build_layer": "layer_builder.layer",
    "package_function": "layer_builder.function",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
