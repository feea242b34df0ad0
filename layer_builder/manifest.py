"""The small JSON file written beside each zip: what went in, what came out, its hashes."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from layer_builder.atomic import write_json_atomically


@dataclass(frozen=True)
class Manifest:
    kind: str  # "layer" or "function"
    input_hash: str
    zip_name: str  # file name, relative to the manifest's directory
    sha256: str
    base64_sha256: str  # what Terraform's source_code_hash and Lambda's CodeSha256 hold
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    builder_version: str
    target: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)  # name -> version (layers)

    def write(self, path: Path) -> None:
        """Write atomically: a reader sees the old manifest or the new one, never half."""
        write_json_atomically(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> "Manifest | None":
        """The manifest at `path`, or None when absent or unreadable (then: rebuild)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def zip_path(self, manifest_path: Path) -> Path:
        return manifest_path.parent / self.zip_name
