"""Layer builds with the real pip against the package registry (CI runs these)."""

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from deploy.paths import REPO_ROOT, REQUIREMENTS_FILE, SERVICES_FILE
from layer_builder import BuildError, LayerBuildRequest, Target, build_layer
from layer_builder.progress import silent_reporter
from layer_builder.services import read_services

pytestmark = [pytest.mark.registry, pytest.mark.slow]

_BUILD_IN_SUBPROCESS = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    os.umask(int(sys.argv[3], 8))
    from layer_builder import LayerBuildRequest, Target, build_layer
    from layer_builder.progress import silent_reporter
    request = LayerBuildRequest(Path(sys.argv[1]), Path(sys.argv[2]), Target("x86_64", "3.12"),
                                keep_services=json.loads(sys.argv[4]))
    print(build_layer(request, report=silent_reporter).manifest.sha256)
    """
)


def _build_elsewhere(requirements: Path, build_dir: Path, umask: str, keep: list[str]) -> str:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _BUILD_IN_SUBPROCESS,
            str(requirements),
            str(build_dir),
            umask,
            json.dumps(keep),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return completed.stdout.strip()


def test_two_builds_in_different_directories_and_umasks_are_byte_identical(tmp_path):
    keep = read_services(SERVICES_FILE)
    copy = tmp_path / "elsewhere" / "reqs.txt"
    copy.parent.mkdir()
    copy.write_text(REQUIREMENTS_FILE.read_text())
    first = _build_elsewhere(REQUIREMENTS_FILE, tmp_path / "one", "022", keep)
    second = _build_elsewhere(copy, tmp_path / "two" / "nested", "077", keep)
    assert len(first) == 64 and first == second
    zips = [next((tmp_path / d).glob("*.zip")) for d in ("one", "two/nested")]
    assert zips[0].read_bytes() == zips[1].read_bytes()


def test_binary_packages_are_the_target_platforms_not_the_build_machines(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("MarkupSafe==3.0.2\n")
    request = LayerBuildRequest(requirements, tmp_path / "build", target=Target("arm64", "3.12"))
    result = build_layer(request, report=silent_reporter)
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        extensions = [n for n in names if n.endswith(".so")]
        assert extensions, names
        elf = archive.read(extensions[0])
        wheel = archive.read("python/MarkupSafe-3.0.2.dist-info/WHEEL").decode()
    assert elf[:4] == b"\x7fELF"
    assert int.from_bytes(elf[18:20], "little") == 183  # EM_AARCH64
    assert "cp312-cp312-manylinux" in wheel and "aarch64" in wheel
    assert "cpython-312-aarch64-linux-gnu" in extensions[0]


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("boto3==0.0.999", r"no distribution of boto3==0\.0\.999 .*versions available"),
        ("python-terraform==0.10.1", r"no distribution of python-terraform==0\.10\.1.*no wheel"),
    ],
)
def test_unavailable_requirements_fail_clearly_without_partial_files(
    requirement, expected, tmp_path
):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{requirement}\n")
    build_dir = tmp_path / "build"
    with pytest.raises(BuildError, match=expected) as raised:
        build_layer(
            LayerBuildRequest(requirements, build_dir, Target("x86_64", "3.12")),
            report=silent_reporter,
        )
    assert "manylinux_2_34_x86_64" in str(raised.value)
    assert not build_dir.exists() or list(build_dir.iterdir()) == []


_CLIENTS_WORK = textwrap.dedent(
    """
    import boto3
    from botocore.stub import Stubber
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y",
                            region_name="us-east-1")
    s3 = session.client("s3")
    with Stubber(s3) as stub:
        stub.add_response("put_object", {"ETag": '"abc"'},
                          {"Bucket": "b", "Key": "k", "Body": b"code"})
        assert s3.put_object(Bucket="b", Key="k", Body=b"code")["ETag"] == '"abc"'
    bedrock = session.client("bedrock-runtime")
    reply = {"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}},
             "stopReason": "end_turn",
             "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
             "metrics": {"latencyMs": 1}}
    with Stubber(bedrock) as stub:
        stub.add_response("converse", reply)
        hello = [{"role": "user", "content": [{"text": "hi"}]}]
        out = bedrock.converse(modelId="m", messages=hello)
        assert out["stopReason"] == "end_turn"
    import botocore
    assert botocore.__file__.startswith(LAYER), botocore.__file__
    try:
        session.client("ec2")
    except Exception as exc:
        print("pruned:", type(exc).__name__)
    """
)


def test_function_clients_work_on_the_pruned_layer(tmp_path):
    keep = read_services(SERVICES_FILE)
    result = build_layer(
        LayerBuildRequest(
            REQUIREMENTS_FILE, tmp_path / "build", Target("x86_64", "3.12"), keep_services=keep
        ),
        report=silent_reporter,
    )
    unpacked = tmp_path / "opt"
    with zipfile.ZipFile(result.zip_path) as archive:
        archive.extractall(unpacked)
    layer = str(unpacked / "python")
    completed = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"LAYER = {layer!r}\nimport sys\nsys.path.insert(0, LAYER)\n" + _CLIENTS_WORK,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "pruned: UnknownServiceError" in completed.stdout
