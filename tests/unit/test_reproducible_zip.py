import os
import stat
import zipfile
from pathlib import Path

import pytest

from layer_builder.errors import BuildError
from layer_builder.reproducible_zip import FIXED_DATE_TIME, write_reproducible_zip


def _tree(root: Path, mode: int = 0o644, mtime: int = 1_700_000_000) -> dict[str, Path]:
    files = {"b/mod.py": b"print('b')\n", "a.py": b"x = 1\n", "tool.sh": b"#!/bin/sh\n"}
    entries = {}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o755 if name.endswith(".sh") else mode)
        os.utime(path, (mtime, mtime))
        entries[name] = path
    return entries


def _zip(entries: dict[str, Path], directory: Path) -> Path:
    return write_reproducible_zip(entries, directory, lambda sha: f"out-{sha[:8]}.zip").path


def test_same_files_in_other_places_and_times_give_identical_bytes(tmp_path):
    first = _zip(_tree(tmp_path / "src1", mode=0o644, mtime=1), tmp_path / "out1")
    second = _zip(_tree(tmp_path / "src2", mode=0o600, mtime=2_000_000_000), tmp_path / "out2")
    assert first.read_bytes() == second.read_bytes()
    assert first.name == second.name


def test_entries_sorted_with_fixed_time_and_normalised_modes(tmp_path):
    path = _zip(_tree(tmp_path / "src", mode=0o600), tmp_path / "out")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == ["a.py", "b/mod.py", "tool.sh"]
    assert all(info.date_time == FIXED_DATE_TIME for info in infos)
    modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in infos}
    assert modes == {"a.py": 0o644, "b/mod.py": 0o644, "tool.sh": 0o755}
    assert all(info.create_system == 3 for info in infos)


def test_name_carries_the_content_hash(tmp_path):
    entries = _tree(tmp_path / "src")
    first = _zip(entries, tmp_path / "out")
    entries["a.py"].write_bytes(b"x = 2\n")
    second = _zip(entries, tmp_path / "out")
    assert first.name != second.name


def test_rejected_zip_leaves_nothing_behind(tmp_path):
    def reject(zipped: int, unzipped: int) -> None:
        raise BuildError("too big")

    out = tmp_path / "out"
    with pytest.raises(BuildError):
        write_reproducible_zip(_tree(tmp_path / "src"), out, lambda sha: "x.zip", check=reject)
    assert list(out.iterdir()) == []


def test_unreadable_source_leaves_nothing_behind(tmp_path):
    entries = _tree(tmp_path / "src")
    entries["missing.py"] = tmp_path / "does-not-exist.py"
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError):
        _zip(entries, out)
    assert list(out.iterdir()) == []
