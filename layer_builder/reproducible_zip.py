"""Write zips that are byte-for-byte the same for the same files, wherever and whenever built.

Sorted entries, a fixed timestamp, normalised permissions, zlib's default compression level,
no directory entries. The zip is written to a temporary file in the destination directory,
checked, and only then renamed to its final, content-addressed name: a failed, rejected or
interrupted build never leaves a partial zip under a real name.
"""

import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layer_builder.fingerprint import file_sha256

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3  # ZipInfo.create_system for Unix, so external_attr carries POSIX modes
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipResult:
    path: Path
    sha256: str
    files: int
    unzipped_bytes: int
    zipped_bytes: int


def normalised_mode(path: Path) -> int:
    """0755 for files the owner may execute, else 0644: independent of umask and checkout."""
    return 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644


def write_reproducible_zip(
    entries: dict[str, Path],
    directory: Path,
    name_for: Callable[[str], str],
    check: Callable[[int, int], None] = lambda zipped, unzipped: None,
) -> ZipResult:
    """Zip `entries` (archive name -> file) into `directory / name_for(sha256)`.

    `check(zipped_bytes, unzipped_bytes)` may raise to reject the zip before it is named.
    """
    directory.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".partial-", suffix=".zip", dir=directory)
    os.close(handle)
    temp_path = Path(temp_name)
    unzipped = 0
    try:
        with zipfile.ZipFile(temp_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(entries):
                source = entries[name]
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
                info.create_system = _UNIX
                info.external_attr = (stat.S_IFREG | normalised_mode(source)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with source.open("rb") as src, archive.open(info, "w") as dst:
                    while chunk := src.read(_CHUNK):
                        dst.write(chunk)
                        unzipped += len(chunk)
        zipped = temp_path.stat().st_size
        check(zipped, unzipped)
        sha256 = file_sha256(temp_path)
        os.chmod(temp_path, 0o644)
        final = directory / name_for(sha256)
        os.replace(temp_path, final)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return ZipResult(final, sha256, len(entries), unzipped, zipped)
