"""Content hashes: of build inputs (to skip unchanged work) and of built zips (for Terraform).

Inputs are hashed by content and relative name only, never by absolute path, mtime or mode,
so the same sources give the same hash on every machine and in every checkout.
"""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def hash_inputs(inputs: dict[str, Any]) -> str:
    """sha256 of a JSON-serialisable description of everything a build depends on."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_tree(files: dict[str, Path]) -> str:
    """sha256 over (relative name, content) pairs, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0")
        digest.update(file_sha256(files[name]).encode() + b"\n")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def base64_sha256(hex_digest: str) -> str:
    """The form Terraform's `source_code_hash` and Lambda's `CodeSha256` use."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def base64_sha256_of(data: bytes) -> str:
    """`base64_sha256` of bytes in memory (a zip as the emulator holds it)."""
    return base64_sha256(hashlib.sha256(data).hexdigest())
