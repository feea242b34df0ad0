"""Whether generated code parses: a verdict for every answer, never an error of its own.

Python with `ast` (it parses, it never runs the code), JSON with `json`, YAML with PyYAML's
composer (the layer's one parser: it builds the node graph, never objects, so no tag runs and
no alias is expanded). Every other language is `unchecked`, said plainly rather than guessed.
"""

import ast
import json
import warnings
from dataclasses import dataclass
from typing import Any

import yaml

from codegen.languages import Language

# libyaml's parser where the wheel has it (Lambda's does), the pure-Python one otherwise.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

OK, ERROR, UNCHECKED = "ok", "error", "unchecked"
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class SyntaxVerdict:
    status: str  # ok | error | unchecked
    line: int | None = None  # where the parser stopped (1-based), for an error
    message: str | None = None  # the parser's words, for an error; why, when unchecked
    repair: str | None = None  # what the stage's repair attempt did, if any (codegen.repair)

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


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


_CHECKERS = {"python": _python, "json": _json, "yaml": _yaml}
