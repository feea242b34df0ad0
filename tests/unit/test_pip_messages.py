from pathlib import Path

from layer_builder.pip_install import explain_pip_failure, pip_command
from layer_builder.targets import Target

NO_VERSION = """ERROR: Could not find a version that satisfies the requirement boto3==99.0 \
(from versions: 1.44.6, 1.44.7, 1.44.8)
ERROR: No matching distribution found for boto3==99.0
"""
NO_WHEEL = """ERROR: Could not find a version that satisfies the requirement \
python-terraform==0.10.1 (from versions: none)
ERROR: No matching distribution found for python-terraform==0.10.1
"""


def test_missing_version_names_package_platform_and_available_versions():
    message = explain_pip_failure(NO_VERSION, Target("arm64", "3.12"))
    assert "boto3==99.0" in message
    assert "manylinux_2_34_aarch64" in message and "CPython 3.12" in message
    assert "1.44.8" in message and "Fix the pin" in message


def test_no_wheel_names_package_and_platform():
    message = explain_pip_failure(NO_WHEEL, Target("x86_64", "3.12"))
    assert "python-terraform==0.10.1" in message
    assert "manylinux_2_34_x86_64" in message and "no wheel" in message


def test_other_failures_show_pips_last_lines():
    message = explain_pip_failure("line 1\nboom: disk full\n", Target("x86_64", "3.12"))
    assert "pip failed" in message and "boom: disk full" in message


def test_pip_is_asked_for_the_lambda_platform_not_the_build_machine():
    command = pip_command(Path("py"), Path("req.txt"), Target("arm64", "3.12"), Path("out"))
    joined = " ".join(command)
    assert "--platform manylinux_2_34_aarch64" in joined
    assert "--platform manylinux_2_17_aarch64" in joined
    assert "--platform manylinux2014_aarch64" in joined
    assert "x86_64" not in joined
    assert "--python-version 3.12" in joined and "--implementation cp" in joined
    assert "--only-binary=:all:" in joined and "--no-compile" in joined
    assert Target("x86_64", "3.11").platform_tag == "manylinux_2_26_x86_64"
