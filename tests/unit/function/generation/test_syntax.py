"""Every answer says whether its code parses: the verdict of each language the function can
check (good code, broken code, code cut off by max_tokens), `unchecked` for the rest, and the
verdict in the answer, the stored object's metadata and a job's answer alike."""

import pytest

from codegen.generation.languages import find_language
from codegen.generation.syntax import check_syntax, checked_languages
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
        ("ruby", "def add(a, b)\n  a +", "unchecked", None, None),
        ("yaml", GOOD_YAML, "ok", None, None),
        ("yaml", "a: 1\n b: 2\n", "error", 2, "mapping values are not allowed"),
        ("yaml", "a: [1, 2\n", "error", 2, "expected ',' or ']'"),
        ("yaml", CUT_YAML, "error", 3, "unexpected end of stream"),
        ("yaml", "a: !!python/object/apply:os.system ['true']\n", "ok", None, None),  # not run
        ("yaml", "a: &x [*x, *x]\n", "ok", None, None),  # an alias is not expanded
        ("haskell", "add a b =", "unchecked", None, None),
        # tree-sitter's grammars: good code, broken code, code cut off by max_tokens
        ("javascript", "function add(a, b) {\n  return a + b;\n}\n", "ok", None, None),
        ("javascript", "function add(a, b) {\n  return a + ;\n}\n", "error", 2, "missing"),
        ("javascript", "function add(a, b) {\n  const s = `sum", "error", 2, "cannot parse"),
        ("typescript", "const add = (a: number, b: number): number => a + b;\n", "ok", None, None),
        ("typescript", "function f(a: number) {\n  return a +* 1;\n}\n", "error", 2, "'+'"),
        ("typescript", "interface Point {\n  x: number;\n  y:", "error", 1, "closing"),
        ("go", "package main\n\nfunc add(a, b int) int {\n\treturn a + b\n}\n", "ok", None, None),
        ("go", "package main\n\nfunc add(a, b int) int {\n\treturn a +\n}\n", "error", 4, "'+'"),
        ("go", "package main\n\nfunc add(a, b int) int {\n\treturn a", "error", 4, "missing '}'"),
        ("rust", "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n", "ok", None, None),
        ("rust", "fn add(a: i32) -> i32 {\n    let x = ;\n    a\n}\n", "error", 2, "'='"),
        ("rust", "fn add(a: i32, b: i32) -> i32 {\n    a +", "error", 1, "closing"),
        (
            "java",
            "class A {\n  int add(int a, int b) {\n    return a + b;\n  }\n}\n",
            "ok",
            None,
            None,
        ),
        (
            "java",
            "class A {\n  int add(int a, int b) {\n    return a + b\n  }\n}\n",
            "error",
            3,
            "';'",
        ),
        ("java", "class A {\n  int add(int a, int b) {\n    return", "error", 1, "closing"),
        ("c", "int add(int a, int b) {\n  return a + b;\n}\n", "ok", None, None),
        ("c", "int add(int a, int b) {\n  return a + b\n}\n", "error", 2, "missing ';'"),
        ("c", "int add(int a, int b) {\n  return a", "error", 1, "closing"),
        (
            "cpp",
            "#include <vector>\nint n(const std::vector<int>& v) { return v.size(); }\n",
            "ok",
            None,
            None,
        ),
        ("cpp", "int add(int a, int b) {\n  return a + b\n}\n", "error", 2, "missing ';'"),
        ("cpp", "class A {\n public:\n  int f() {", "error", 1, "closing"),
        ("bash", 'for f in *.txt; do\n  echo "$f"\ndone\n', "ok", None, None),
        ("bash", "if [ -f x ]; then\n  echo hi\nfi fi\n", "error", 3, "'fi'"),
        ("bash", 'for f in *.txt; do\n  echo "$f', "error", 1, "closing"),
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
    from tests.unit.function.http.test_openapi import SPEC

    assert checked_languages() == (
        "python",
        "json",
        "yaml",
        "javascript",
        "typescript",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "bash",
    )
    described = " ".join(SPEC["components"]["schemas"]["Syntax"]["description"].split())
    assert f"all but {', '.join(checked_languages()[:-1])} and bash" in described


def test_a_grammar_that_cannot_load_is_unchecked_and_says_so(monkeypatch):
    from codegen.generation import syntax

    monkeypatch.setattr(syntax, "_tree_sitter_parser", lambda language: None)
    verdict = check_syntax("function f() {}\n", find_language("javascript"))
    assert verdict.status == "unchecked" and "cannot load" in verdict.message


def test_every_grammar_loads_here():
    from codegen.generation import syntax

    for language in syntax._GRAMMARS:
        assert syntax._tree_sitter_parser(language) is not None, language


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
    stubber.add_response("converse", converse_reply("```ruby\nputs 1\n```"))
    ok = body_of(service.handle(http_event({"message": "add", "key": "py"}), FakeContext()))
    rb = body_of(service.handle(http_event({"message": "add", "key": "ruby"}), FakeContext()))
    assert ok["syntax"] == {"status": "ok"} and rb["syntax"] == {"status": "unchecked"}
