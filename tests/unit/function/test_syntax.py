"""Every answer says whether its code parses: the verdict of each language the function can
check (good code, broken code, code cut off by max_tokens), `unchecked` for the rest, and the
verdict in the answer, the stored object's metadata and a job's answer alike."""

import pytest

from codegen.languages import find_language
from codegen.syntax import check_syntax, checked_languages
from tests.unit.function.helpers import (
    BUCKET,
    FakeContext,
    body_of,
    converse_reply,
    http_event,
)

GOOD_PYTHON = "def add(a: int, b: int) -> int:\n    return a + b\n"
CUT_PYTHON = 'def add(a, b):\n    """Add two numbers.\n    return a +'  # max_tokens ran out
GOOD_JSON = '{"name": "codegen", "tags": ["a", "b"], "size": 3}\n'
CUT_JSON = '{"name": "codegen",\n "tags": ["a", '
GOOD_YAML = "name: codegen\ntags:\n  - a\n  - b\n---\nsize: 3\n"
CUT_YAML = 'name: codegen\ndescription: "a tool that\n'


@pytest.mark.parametrize(
    ("language", "code", "status", "line", "words"),
    [
        ("python", GOOD_PYTHON, "ok", None, None),
        ("python", "def add(a, b)\n    return a + b\n", "error", 1, "expected ':'"),
        ("python", CUT_PYTHON, "error", 2, "unterminated triple-quoted string"),
        ("python", "x = 1\n\0y = 2\n", "error", None, "null bytes"),
        ("python", "   \n", "error", 1, "no code"),
        ("json", GOOD_JSON, "ok", None, None),
        ("json", '{"a": 1,}\n', "error", 1, "Expecting property name"),
        ("json", CUT_JSON, "error", 2, "Expecting value"),
        ("go", "package main\nfunc main() {", "unchecked", None, None),
        ("yaml", GOOD_YAML, "ok", None, None),
        ("yaml", "a: 1\n b: 2\n", "error", 2, "mapping values are not allowed"),
        ("yaml", "a: [1, 2\n", "error", 2, "expected ',' or ']'"),
        ("yaml", CUT_YAML, "error", 3, "unexpected end of stream"),
        ("yaml", "a: !!python/object/apply:os.system ['true']\n", "ok", None, None),  # not run
        ("yaml", "a: &x [*x, *x]\n", "ok", None, None),  # an alias is not expanded
        ("javascript", "function f() {", "unchecked", None, None),
    ],
)
def test_each_checked_language_gets_a_verdict_and_the_rest_unchecked(
    language, code, status, line, words
):
    verdict = check_syntax(code, find_language(language))
    assert (verdict.status, verdict.line) == (status, line)
    if words is None:
        assert verdict.message is None
    else:
        assert words in verdict.message


def test_the_checked_languages_are_the_ones_the_contract_names():
    from tests.unit.function.test_openapi import SPEC

    assert checked_languages() == ("python", "json", "yaml")
    described = SPEC["components"]["schemas"]["Syntax"]["description"]
    assert "all but python, json and yaml" in described


def test_deep_nesting_is_unchecked_not_a_crash():
    verdict = check_syntax("x = " + "(" * 100_000 + ")" * 100_000 + "\n", find_language("python"))
    assert verdict.status in ("unchecked", "error")  # never raises


def test_the_answer_and_the_stored_object_carry_the_verdict(service, stubber, s3):
    stubber.add_response("converse", converse_reply(f"```python\n{CUT_PYTHON}\n```", "max_tokens"))
    result = service.handle(http_event({"message": "add", "key": "python"}), FakeContext())
    assert result["statusCode"] == 200  # the check never turns an answer into an error
    answer = body_of(result)
    assert answer["syntax"]["status"] == "error" and answer["syntax"]["line"] == 2
    assert answer["truncated"] is True
    metadata = s3.head_object(Bucket=BUCKET, Key=answer["key"])["Metadata"]
    assert metadata["syntax"] == "error" and metadata["syntax-line"] == "2"
    assert "unterminated" in metadata["syntax-message"]


def test_good_code_is_ok_and_an_unchecked_language_says_so(service, stubber):
    stubber.add_response("converse", converse_reply(f"```python\n{GOOD_PYTHON}```"))
    stubber.add_response("converse", converse_reply("```go\npackage main\n```"))
    ok = body_of(service.handle(http_event({"message": "add", "key": "py"}), FakeContext()))
    go = body_of(service.handle(http_event({"message": "add", "key": "go"}), FakeContext()))
    assert ok["syntax"] == {"status": "ok"} and go["syntax"] == {"status": "unchecked"}
