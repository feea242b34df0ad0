import zipfile
from pathlib import Path

import pytest

from layer_builder import BuildError, FunctionPackageRequest, package_function
from layer_builder.manifest import Manifest
from layer_builder.progress import silent_reporter


def _source(root: Path) -> Path:
    files = {
        "codegen/__init__.py": "",
        "codegen/handler.py": "def handler(event, context):\n    return {}\n",
        "codegen/data/languages.json": "{}",
        "codegen/__pycache__/handler.cpython-312.pyc": "junk",
        "codegen/handler.py~": "backup",
        "codegen/.handler.py.swp": "vim",
        "codegen/.DS_Store": "mac",
        "tests/test_handler.py": "def test(): pass",
        "codegen/test_inline.py": "def test(): pass",
        "requirements.txt": "boto3==1\n",
        "services.txt": "s3\n",
        ".idea/workspace.xml": "<xml/>",
        ".env": "AWS_SECRET_ACCESS_KEY=do-not-ship",
        "codegen/.env": "TOKEN=do-not-ship",
        "codegen/key.pem": "-----BEGIN PRIVATE KEY-----",
        "codegen/notes.md": "notes",
        "scratch.py": "print('a stray top-level module')",
        "notdata/loose.py": "x = 1",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _package(source: Path, build: Path, **options):
    request = FunctionPackageRequest(source, build, **options)
    return package_function(request, report=silent_reporter)


def test_zip_holds_only_the_function_package_never_secrets_or_stray_files(tmp_path):
    result = _package(_source(tmp_path / "lambda"), tmp_path / "build")
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
    assert names == ["codegen/__init__.py", "codegen/data/languages.json", "codegen/handler.py"]


def test_same_source_elsewhere_gives_same_zip_and_unchanged_source_is_skipped(tmp_path):
    first = _package(_source(tmp_path / "a"), tmp_path / "build-a")
    second = _package(_source(tmp_path / "b"), tmp_path / "build-b")
    assert first.zip_path.read_bytes() == second.zip_path.read_bytes()
    again = _package(tmp_path / "a", tmp_path / "build-a")
    assert again.up_to_date


def test_editing_source_repackages_but_editor_files_do_not(tmp_path):
    source = _source(tmp_path / "lambda")
    first = _package(source, tmp_path / "build")
    (source / "codegen" / "notes.txt~").write_text("ignored")
    (source / "codegen" / "__pycache__" / "x.pyc").write_text("ignored")
    assert _package(source, tmp_path / "build").up_to_date
    (source / "codegen" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    second = _package(source, tmp_path / "build")
    assert not second.up_to_date and second.manifest.sha256 != first.manifest.sha256


def test_missing_or_empty_source_is_refused(tmp_path):
    with pytest.raises(BuildError, match="not found"):
        _package(tmp_path / "nope", tmp_path / "build")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="no Python source"):
        _package(tmp_path / "empty", tmp_path / "build")
    assert not (tmp_path / "build").exists()


def test_function_plus_built_layer_must_fit_unzipped_limit(tmp_path, monkeypatch):
    build = tmp_path / "build"
    Manifest(
        kind="layer",
        input_hash="x",
        zip_name="layer-x.zip",
        sha256="0" * 64,
        base64_sha256="",
        zipped_bytes=1,
        unzipped_bytes=10_000,
        files=1,
        builder_version="1",
    ).write(build / "layer-x86_64-py3.12.json")
    monkeypatch.setattr("layer_builder.limits.MAX_UNZIPPED_TOTAL", 10_020)
    with pytest.raises(BuildError, match="in total"):
        _package(_source(tmp_path / "lambda"), build)
    assert [p.name for p in build.iterdir()] == ["layer-x86_64-py3.12.json"]
