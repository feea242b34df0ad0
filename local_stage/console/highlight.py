"""Generated code as highlighted HTML, on the server (Pygments), so the page needs no
JavaScript library: the language's lexer by its name, else by the object's extension, else
plain text."""

from functools import cache
from html import escape

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

CSS_CLASS = "hl"


def as_html(code: str, language: str | None, file_name: str) -> str:
    lexer = _lexer(language, file_name)
    if lexer is None:
        return f'<div class="{CSS_CLASS}"><pre>{escape(code)}</pre></div>'
    return highlight(code, lexer, HtmlFormatter(cssclass=CSS_CLASS))


@cache
def stylesheet() -> str:
    """The colours of the highlighted code, light and dark."""
    light = HtmlFormatter(style="default").get_style_defs(f".{CSS_CLASS}")
    dark = HtmlFormatter(style="monokai").get_style_defs(f".{CSS_CLASS}")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _lexer(language: str | None, file_name: str) -> Lexer | None:
    for find in (
        lambda: get_lexer_by_name(language or ""),
        lambda: get_lexer_for_filename(file_name),
    ):
        try:
            return find()
        except ClassNotFound:
            continue
    return None
