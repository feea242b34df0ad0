"""The unit tier's one speed-up: botocore's data files parsed once per test process.

A unit test of the function runs in a fresh moto mock, whose boto3 clients come from a fresh
botocore session each time; each session re-reads and re-parses the JSON of the service models
and endpoint rules it needs (about 0.2 s of a test's setup, most of the tier's time). The files
do not change during a run, so the parse is kept for the process: botocore itself shares one
parsed copy between the clients of a session in the same way.
"""

import functools
from typing import Any

import botocore.loaders

_parse = botocore.loaders.JSONFileLoader.load_file


@functools.cache
def _parsed(file_path: str) -> Any:
    return _parse(botocore.loaders.JSONFileLoader(), file_path)


def _load_file(self: botocore.loaders.JSONFileLoader, file_path: str) -> Any:
    return _parsed(file_path)


botocore.loaders.JSONFileLoader.load_file = _load_file
