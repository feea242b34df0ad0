"""Writing a file so that a reader sees the old one or the new one, never half of one."""

import json
import os
import tempfile
from pathlib import Path


def write_json_atomically(path: Path, value: object) -> None:
    """`value` as indented JSON with sorted keys at `path`, replacing it in one step; a
    failed write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
