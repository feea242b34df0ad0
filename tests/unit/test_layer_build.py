import zipfile
from pathlib import Path

import pytest

import layer_builder.artifact
from layer_builder import BuildError, LayerBuildRequest, Target, build_layer
from layer_builder.limits import MiB
from layer_builder.progress import silent_reporter
from tests.unit.fakes import FakeInstaller


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("# pinned\nboto3==1.44.8\n\nbotocore==1.44.8  # comment\n")
    return path


def _build(requirements: Path, build_dir: Path, installer: FakeInstaller, **options):
    options.setdefault("target", Target("x86_64", "3.12"))
    request = LayerBuildRequest(requirements=requirements, build_dir=build_dir, **options)
    return build_layer(request, report=silent_reporter, installer=installer)


def test_second_build_with_same_inputs_does_nothing(requirements, tmp_path):
    installer = FakeInstaller()
    first = _build(requirements, tmp_path / "build", installer)
    second = _build(requirements, tmp_path / "build", installer)
    assert not first.up_to_date and second.up_to_date
    assert installer.calls == 1
    assert second.manifest == first.manifest
    assert second.seconds < 0.5


@pytest.mark.parametrize(
    "change",
    ["requirements", "arch", "python", "keep_services", "builder_version", "force", "zip_altered"],
)
def test_each_changed_input_triggers_a_rebuild(change, requirements, tmp_path, monkeypatch):
    installer = FakeInstaller()
    build_dir = tmp_path / "build"
    first = _build(requirements, build_dir, installer)
    options = {}
    if change == "requirements":
        requirements.write_text("boto3==1.44.7\n")
    elif change == "arch":
        options["target"] = Target("arm64", "3.12")
    elif change == "python":
        options["target"] = Target("x86_64", "3.13")
    elif change == "keep_services":
        options["keep_services"] = ["s3"]
    elif change == "builder_version":
        monkeypatch.setattr(layer_builder.layer, "BUILDER_VERSION", "999")
    elif change == "force":
        options["force"] = True
    elif change == "zip_altered":
        first.zip_path.write_bytes(b"corrupted")
    second = _build(requirements, build_dir, installer, **options)
    assert not second.up_to_date
    assert installer.calls == 2


def test_comments_and_blank_lines_do_not_change_the_input_hash(requirements, tmp_path):
    installer = FakeInstaller()
    _build(requirements, tmp_path / "build", installer)
    requirements.write_text("boto3==1.44.8\nbotocore==1.44.8\n# another comment\n")
    assert _build(requirements, tmp_path / "build", installer).up_to_date


def test_layer_leaves_out_bin_and_bytecode_and_records_only_shipped_files(requirements, tmp_path):
    result = _build(requirements, tmp_path / "build", FakeInstaller())
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        record = archive.read("python/boto3-1.0.dist-info/RECORD").decode()
    assert "python/boto3/__init__.py" in names
    assert not [n for n in names if "/bin/" in n or "__pycache__" in n or n.endswith(".pyc")]
    assert record.splitlines() == ["boto3/__init__.py,sha256=x,1", "boto3-1.0.dist-info/RECORD,,"]
    assert result.manifest.packages == {"boto3": "1.0", "python-dateutil": "2.9.0"}


def test_pruning_keeps_only_listed_services_and_shared_data(requirements, tmp_path):
    result = _build(requirements, tmp_path / "build", FakeInstaller(), keep_services=["s3"])
    with zipfile.ZipFile(result.zip_path) as archive:
        names = set(archive.namelist())
    assert "python/botocore/data/endpoints.json" in names
    assert "python/botocore/data/s3/2006-03-01/service-2.json.gz" in names
    assert "python/boto3/data/s3/2006-03-01/resources-1.json" in names
    assert not [n for n in names if "/ec2/" in n]


def test_manifest_records_hashes_sizes_and_target(requirements, tmp_path):
    import base64
    import hashlib

    result = _build(
        requirements, tmp_path / "build", FakeInstaller(), target=Target("arm64", "3.12")
    )
    data = result.zip_path.read_bytes()
    manifest = result.manifest
    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    assert manifest.base64_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert manifest.zipped_bytes == len(data)
    assert manifest.sha256[:16] in result.zip_path.name
    assert manifest.target == {"arch": "arm64", "python": "3.12", "runtime": "python3.12"}
    assert result.manifest_path.name == "layer-arm64-py3.12.json"


def test_rebuild_removes_the_stale_zip(requirements, tmp_path):
    build_dir = tmp_path / "build"
    first = _build(requirements, build_dir, FakeInstaller(payload_bytes=1))
    requirements.write_text("boto3==1.44.7\n")
    second = _build(requirements, build_dir, FakeInstaller(payload_bytes=2))
    assert not first.zip_path.exists()
    assert sorted(p.name for p in build_dir.iterdir()) == sorted(
        [second.zip_path.name, second.manifest_path.name]
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "requirements file not found"),
        ("empty", "lists no package"),
        ("comments_only", "lists no package"),
        ("pip_fails", "pip found no distribution of boto3==99"),
        ("too_big", "MiB for a direct upload"),
    ],
)
def test_bad_inputs_fail_clearly_and_leave_build_dir_untouched(
    setup, message, requirements, tmp_path, monkeypatch
):
    build_dir = tmp_path / "build"
    _build(requirements, build_dir, FakeInstaller())  # an earlier good build stays intact
    before = {p.name: p.read_bytes() for p in build_dir.iterdir()}
    installer = FakeInstaller()
    if setup == "missing":
        requirements.unlink()
    elif setup == "empty":
        requirements.write_text("")
    elif setup == "comments_only":
        requirements.write_text("# nothing\n\n")
    elif setup == "pip_fails":
        requirements.write_text("boto3==99\n")
        installer = FakeInstaller(fail="pip found no distribution of boto3==99 for ...")
    elif setup == "too_big":
        requirements.write_text("boto3==1.44.7\n")
        monkeypatch.setattr("layer_builder.limits.MAX_DIRECT_UPLOAD_ZIPPED", 1 * MiB)
        installer = FakeInstaller(payload_bytes=3 * MiB)
        monkeypatch.setattr(  # incompressible payload
            "tests.unit.fakes.FakeInstaller.__call__", _random_payload_installer
        )
    with pytest.raises(BuildError, match=message):
        _build(requirements, build_dir, installer)
    after = {p.name: p.read_bytes() for p in build_dir.iterdir()}
    assert after == before


def _random_payload_installer(self, requirements, target, dest, report):
    import os

    (dest / "pkg").mkdir(parents=True)
    (dest / "pkg" / "blob.bin").write_bytes(os.urandom(self.payload_bytes))


@pytest.mark.parametrize(
    ("arch", "python", "message"),
    [
        ("sparc", "3.12", "unknown architecture 'sparc'"),
        ("aarch64", "3.12", "pass --arch x86_64 or --arch arm64"),
        ("x86_64", "3.99", "not a Lambda runtime"),
        ("x86_64", "three", "not of the form 3.N"),
    ],
)
def test_bad_targets_are_refused(arch, python, message):
    with pytest.raises(BuildError, match=message):
        Target(arch, python)


def test_unzipped_limit_counts_function_and_layers():
    from layer_builder.limits import check_unzipped_total

    check_unzipped_total({"function": 100 * MiB, "layer": 150 * MiB})
    with pytest.raises(BuildError, match="250 MiB in total"):
        check_unzipped_total({"function": 100 * MiB, "layer": 151 * MiB})
