"""A stand-in for pip that writes a plausible site-packages tree, counting its calls."""

from pathlib import Path

from layer_builder.errors import BuildError
from layer_builder.progress import Reporter
from layer_builder.targets import Target


class FakeInstaller:
    def __init__(self, payload_bytes: int = 100, fail: str | None = None) -> None:
        self.calls = 0
        self.payload_bytes = payload_bytes
        self.fail = fail

    def __call__(self, requirements: Path, target: Target, dest: Path, report: Reporter) -> None:
        self.calls += 1
        if self.fail:
            raise BuildError(self.fail)
        files = {
            "boto3/__init__.py": b"__version__ = '1.0'\n",
            "boto3/__pycache__/__init__.cpython-311.pyc": b"junk",
            "botocore/__init__.py": b"",
            "botocore/data/endpoints.json": b"{}",
            "botocore/data/s3/2006-03-01/service-2.json.gz": b"s3",
            "botocore/data/ec2/2016-11-15/service-2.json.gz": b"ec2" * 10,
            "boto3/data/s3/2006-03-01/resources-1.json": b"{}",
            "boto3/data/ec2/2016-11-15/resources-1.json": b"{}",
            "bin/jp.py": f"#!{dest}/venv/bin/python\n".encode(),
            "boto3-1.0.dist-info/METADATA": b"Name: boto3\n",
            "boto3-1.0.dist-info/RECORD": (
                b"boto3/__init__.py,sha256=x,1\n../../bin/jp.py,sha256=y,2\n"
                b"boto3/__pycache__/__init__.cpython-311.pyc,,\n"
                b"boto3-1.0.dist-info/RECORD,,\n"
            ),
            "python_dateutil-2.9.0.dist-info/METADATA": b"Name: python-dateutil\n",
            "big.bin": b"\0" * self.payload_bytes,
        }
        for name, content in files.items():
            path = dest / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
