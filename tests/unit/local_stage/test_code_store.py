"""Deployed zips unpacked once per content hash, even when cold starts arrive together."""

import concurrent.futures
import io
import sys
import threading
import zipfile

from layer_builder.fingerprint import base64_sha256_of
from local_stage.runtime.code_store import CodeStore


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("codegen/__init__.py", "")
        archive.writestr("codegen/handler.py", "def lambda_handler(e, c):\n    return {}\n")
    return buffer.getvalue()


def test_concurrent_cold_starts_of_one_function_unpack_its_code_once(tmp_path):
    data = a_zip()
    store = CodeStore(tmp_path / "code", tmp_path / "build")
    fetches = 0
    gate = threading.Barrier(8)

    def fetch() -> bytes:
        nonlocal fetches
        fetches += 1
        return data

    def cold_start(_):
        gate.wait()  # all eight ask at the same moment
        return store.unpacked("code of f", base64_sha256_of(data), fetch, sys.executable)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        trees = set(pool.map(cold_start, range(8)))
    assert fetches == 1 and len(trees) == 1
    tree = trees.pop()
    assert (tree / "codegen" / "handler.py").is_file() and (tree / ".complete").is_file()
