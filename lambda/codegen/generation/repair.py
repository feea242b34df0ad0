"""One repair attempt for generated code that does not parse (the stage's `syntax_repair`, off
by default): the model is shown its own answer and the parser's message, and asked once for
the whole code again.

Tried only where it can help and fits: not for an answer cut off by max_tokens (its fix is
more tokens, which the caller chooses), and only while a second answer as long as the first
took still fits in the time left. The answer's `syntax.repair` says what happened; whatever
it is, the caller gets code: a failed or skipped repair keeps the first answer.
"""

from codegen.generation.languages import Language
from codegen.generation.syntax import SyntaxVerdict

REPAIRED = "repaired"  # the code is the second answer's, and it parses
FAILED = "failed"  # the second answer did not parse either, or the model failed: first kept
NO_TIME = "no_time"  # not tried: a second answer would not fit in the time left
TRUNCATED = "truncated"  # not tried: the answer was cut off by max_tokens
# Bedrock refuses an empty message; an answer with no text at all is shown as this.
_NO_TEXT = "(no answer)"


def repair_turns(answer_text: str, verdict: SyntaxVerdict, language: Language) -> list[str]:
    """The conversation's next two turns: the model's own answer, then the parser's words."""
    where = f" at line {verdict.line}" if verdict.line is not None else ""
    request = (
        f"That {language.title} code does not parse{where}: {verdict.message}. Answer with "
        f"the whole corrected code, in one fenced code block tagged ```{language.name}."
    )
    return [answer_text.strip() or _NO_TEXT, request]
