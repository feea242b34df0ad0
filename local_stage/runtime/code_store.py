"""Deployed code on disk: zips found by their sha256, unpacked once per content hash.

A zip comes from the emulator when it holds the bytes, else from the build directory (a
built zip whose sha256 matches what the emulator reports): so the workers always run
exactly what was deployed, and a clear error says so when neither has it.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

from layer_builder.fingerprint import base64_sha256_of


class CodeNotFound(Exception):
    """Neither the emulator nor the build directory holds the deployed code."""


class CodeStore:
    def __init__(self, root: Path, build_dir: Path) -> None:
        self.root = root
        self.build_dir = build_dir
        # One lock per content hash: cold starts of one function that arrive together unpack
        # its zip once, and none replaces a tree another worker is already running from.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def unpacked(
        self, what: str, code_sha256: str, fetch: Callable[[], bytes | None], python: Path
    ) -> Path:
        """Directory holding the zip whose base64 sha256 is `code_sha256`, unpacked and
        byte-compiled with the worker's interpreter (once; later calls are a stat)."""
        key = base64.urlsafe_b64decode(code_sha256).hex()[:32]
        target = self.root / key
        if (target / ".complete").is_file():
            return target
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if (target / ".complete").is_file():  # unpacked while this call waited
                return target
            return self._fetch_and_unpack(what, code_sha256, fetch, python, target)

    def _fetch_and_unpack(
        self,
        what: str,
        code_sha256: str,
        fetch: Callable[[], bytes | None],
        python: Path,
        target: Path,
    ) -> Path:
        data = fetch()
        if data is None or base64_sha256_of(data) != code_sha256:
            data = self._from_build_dir(code_sha256)
        if data is None:
            raise CodeNotFound(
                f"the deployed {what} (CodeSha256 {code_sha256}) is neither in the emulator "
                f"nor in {self.build_dir}: redeploy with `invoke deploy --stage local`"
            )
        self._unpack(data, target, python)
        return target

    def _from_build_dir(self, code_sha256: str) -> bytes | None:
        for manifest_path in self.build_dir.glob("*.json"):
            try:
                manifest = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                continue
            if manifest.get("base64_sha256") == code_sha256:
                zip_path = manifest_path.parent / manifest.get("zip_name", "")
                if zip_path.is_file():
                    data = zip_path.read_bytes()
                    if base64_sha256_of(data) == code_sha256:
                        return data
        return None

    def _unpack(self, data: bytes, target: Path, python: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=self.root))
        try:
            archive_path = scratch / "code.zip"
            archive_path.write_bytes(data)
            tree = scratch / "tree"
            with zipfile.ZipFile(archive_path) as archive:
                for info in archive.infolist():
                    name = Path(info.filename)
                    if name.is_absolute() or ".." in name.parts:
                        raise CodeNotFound(f"unsafe path {info.filename!r} in deployed zip")
                archive.extractall(tree)
                for info in archive.infolist():  # keep executable bits, as Lambda does
                    mode = (info.external_attr >> 16) & 0o777
                    if mode:
                        os.chmod(tree / info.filename, mode)
            _compile(tree, python)
            (tree / ".complete").write_text("ok")
            if target.exists():
                shutil.rmtree(target)
            os.replace(tree, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _compile(tree: Path, python: Path) -> None:
    """Byte-compile with the worker's interpreter so every cold start does not recompile
    (Lambda's read-only /var/task would make it recompile every time)."""
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", str(tree)],
        capture_output=True,
        check=False,
    )
