"""Whether generated code parses: a verdict for every answer, never an error of its own.

Python with `ast` (it parses, it never runs the code), JSON with `json`, YAML with PyYAML's
composer (it builds the node graph, never objects, so no tag runs and no alias is expanded),
and JavaScript, TypeScript, Go, Rust, Java, C, C++ and Bash with tree-sitter's grammars (in
the layer: docs/service.md weighs them). tree-sitter is error-tolerant: an `error` is certain, an
`ok` means its grammar, more lenient than a compiler in places, found nothing wrong. Every
other language is `unchecked`, said plainly rather than guessed.
"""

import ast
import importlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from codegen.generation.languages import Language

# libyaml's parser where the wheel has it (Lambda's does), the pure-Python one otherwise.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

OK, ERROR, UNCHECKED = "ok", "error", "unchecked"
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class SyntaxVerdict:
    status: str  # ok | error | unchecked
    line: int | None = None  # where the parser stopped (1-based), for an error
    message: str | None = None  # the parser's words, for an error; why, when unchecked
    # what the stage's repair attempt did, if any (codegen.generation.repair)
    repair: str | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"status": self.status}
        if self.line is not None:
            record["line"] = self.line
        if self.message is not None:
            record["message"] = self.message
        if self.repair is not None:
            record["repair"] = self.repair
        return record


UNCHECKED_VERDICT = SyntaxVerdict(UNCHECKED)


def checked_languages() -> tuple[str, ...]:
    return tuple(_CHECKERS)


def check_syntax(code: str, language: Language) -> SyntaxVerdict:
    checker = _CHECKERS.get(language.name)
    if checker is None:
        return UNCHECKED_VERDICT
    if not code.strip():
        return SyntaxVerdict(ERROR, 1, "the answer holds no code")
    return checker(code)


def _python(code: str) -> SyntaxVerdict:
    try:
        with warnings.catch_warnings():  # invalid escapes and the like: not our verdict
            warnings.simplefilter("ignore")
            ast.parse(code, mode="exec")
    except SyntaxError as exc:
        return SyntaxVerdict(ERROR, exc.lineno, _short(exc.msg))
    except ValueError as exc:  # e.g. a NUL byte in the source
        return SyntaxVerdict(ERROR, None, _short(str(exc)))
    except (RecursionError, MemoryError):
        return SyntaxVerdict(UNCHECKED, None, "too deeply nested to check")
    return SyntaxVerdict(OK)


def _json(code: str) -> SyntaxVerdict:
    try:
        json.loads(code)
    except json.JSONDecodeError as exc:
        return SyntaxVerdict(ERROR, exc.lineno, _short(exc.msg))
    except RecursionError:
        return SyntaxVerdict(UNCHECKED, None, "too deeply nested to check")
    return SyntaxVerdict(OK)


def _yaml(code: str) -> SyntaxVerdict:
    try:
        for _ in yaml.compose_all(code, Loader=_YAML_LOADER):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        words = " ".join(part for part in (exc.problem, exc.context) if part)
        return SyntaxVerdict(ERROR, mark.line + 1 if mark else None, _short(words))
    except yaml.YAMLError as exc:  # e.g. a character YAML does not allow, without a mark
        return SyntaxVerdict(ERROR, None, _short(str(exc)))
    except RecursionError:
        return SyntaxVerdict(UNCHECKED, None, "too deeply nested to check")
    return SyntaxVerdict(OK)


# A language's tree-sitter grammar: (its package, the function that gives its language).
_GRAMMARS = {
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "bash": ("tree_sitter_bash", "language"),
}


@cache
def _tree_sitter_parser(language: str) -> Any:
    """The language's parser, made once per container; None where the compiled grammar
    cannot load (a layer built for Lambda's Linux, run by a macOS machine's local stage)."""
    package, function = _GRAMMARS[language]
    try:
        import tree_sitter

        grammar = importlib.import_module(package)
        return tree_sitter.Parser(tree_sitter.Language(getattr(grammar, function)()))
    except (ImportError, OSError, ValueError):
        return None


def _tree_sitter(language: str) -> "Checker":
    def check(code: str) -> SyntaxVerdict:
        parser = _tree_sitter_parser(language)
        if parser is None:
            return SyntaxVerdict(UNCHECKED, None, "its parser cannot load on this platform")
        source = code.encode("utf-8")
        root = parser.parse(source).root_node
        if not root.has_error:
            return SyntaxVerdict(OK)
        found = _first_error(root)
        if found is None:
            return SyntaxVerdict(ERROR, None, "syntax error")
        if found.is_missing:
            words = f"missing {found.type!r}"
        else:
            lines = (found.text or b"").decode("utf-8", "replace").strip().splitlines()
            words = f"cannot parse from {lines[0][:40]!r}" if lines else "syntax error"
            if len(lines) > 1 and found.end_byte >= len(source.rstrip()):
                words += ", which the code ends before closing"  # e.g. cut off by max_tokens
        return SyntaxVerdict(ERROR, found.start_point[0] + 1, _short(words))

    return check


def _first_error(root: Any) -> Any:
    """The first ERROR or MISSING node in the text's order (a walk of our own: deep trees
    must not meet Python's recursion limit)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        stack.extend(child for child in reversed(node.children) if child.has_error)
    return None


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


Checker = Callable[[str], SyntaxVerdict]
_CHECKERS: dict[str, Checker] = {
    "python": _python,
    "json": _json,
    "yaml": _yaml,
    **{language: _tree_sitter(language) for language in _GRAMMARS},
}
