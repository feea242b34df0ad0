"""Each code-writing function's s3:PutObject reaches only its own keys (terraform/main.tf's
stored_answer_keys and stored_job_keys, IAM patterns): the keys the function really makes
(codegen/generation/storage.py) match its own pattern and never the other's."""

import fnmatch
import re
from datetime import UTC, datetime

import pytest

from codegen.generation.languages import find_language
from codegen.generation.storage import job_object_key, object_key
from deploy.paths import TERRAFORM_DIR

MAIN = (TERRAFORM_DIR / "main.tf").read_text()


def pattern(name: str) -> str:
    found = re.search(rf'^\s*{name}\s*=\s*"([^"]+)"', MAIN, re.M)
    assert found, f"terraform/main.tf sets no {name}"
    prefix = re.search(r'^\s*output_prefix\s*=\s*"([^"]+)"', MAIN, re.M)
    assert prefix
    return prefix.group(1) + found.group(1)


def iam_match(key: str, resource: str) -> bool:
    """IAM's resource wildcards: * any run of characters (slashes too), ? exactly one."""
    return fnmatch.fnmatchcase(key, resource.replace("[", "[[]"))


@pytest.mark.parametrize(
    "day", [datetime(2026, 1, 2, tzinfo=UTC), datetime(2099, 12, 31, tzinfo=UTC)]
)
@pytest.mark.parametrize("language", ["python", "go", "yaml"])
def test_a_synchronous_answers_key_is_the_apis_and_not_the_workers(day, language):
    key = object_key("code-output/", day, "rid-1234", find_language(language))
    assert iam_match(key, pattern("stored_answer_keys"))
    assert not iam_match(key, pattern("stored_job_keys"))


@pytest.mark.parametrize("language", ["python", "go", "yaml"])
def test_a_jobs_key_is_the_workers_and_not_the_apis(language):
    job_id = "0c9a4a5e-1f0b-4e7e-9a1e-6f2d3c4b5a69"
    key = job_object_key("code-output/", job_id, find_language(language))
    assert iam_match(key, pattern("stored_job_keys"))
    assert not iam_match(key, pattern("stored_answer_keys"))
