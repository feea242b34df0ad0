"""What a build returns to its caller (tasks, deploy, tests)."""

from dataclasses import dataclass
from pathlib import Path

from layer_builder.manifest import Manifest


@dataclass(frozen=True)
class BuildResult:
    manifest: Manifest
    manifest_path: Path
    up_to_date: bool  # True when inputs were unchanged and nothing was built
    seconds: float

    @property
    def zip_path(self) -> Path:
        return self.manifest.zip_path(self.manifest_path)
