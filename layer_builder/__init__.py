"""Build the Lambda layer (boto3 and friends) and the function zip, reproducibly.

Nothing here talks to AWS or Terraform: the deploy package calls this, never the reverse.
"""

from layer_builder.errors import BuildError
from layer_builder.function import FunctionPackageRequest, package_function
from layer_builder.layer import LayerBuildRequest, build_layer
from layer_builder.manifest import Manifest
from layer_builder.result import BuildResult
from layer_builder.targets import Target
from layer_builder.version import BUILDER_VERSION

__all__ = [
    "BUILDER_VERSION",
    "BuildError",
    "BuildResult",
    "FunctionPackageRequest",
    "LayerBuildRequest",
    "Manifest",
    "Target",
    "build_layer",
    "package_function",
]
