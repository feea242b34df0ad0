"""The system prompt, and taking the code out of the model's fenced answer."""

import re

from codegen.languages import Language, fence_tags

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<tag>[^\s`]*)[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)


def system_prompt(language: Language) -> str:
    return (
        f"You are an expert {language.title} programmer. Write {language.title} code that does "
        f"what the user asks. Answer with only the code, in one fenced code block tagged "
        f"```{language.name}; put any explanation in code comments. Do not add text before or "
        f"after the block."
    )


def extract_code(text: str, language: Language) -> str:
    """The body of the fenced block for `language` (else the first block, else all text).

    An unterminated fence (the answer was cut off) yields everything after its opening line.
    """
    blocks = [(m.group("tag").lower(), m.group("body")) for m in _FENCE.finditer(text)]
    if not blocks:
        return text.strip() + "\n" if text.strip() else ""
    tags = fence_tags(language)
    chosen = next((body for tag, body in blocks if tag in tags), blocks[0][1])
    return chosen.rstrip() + "\n"
