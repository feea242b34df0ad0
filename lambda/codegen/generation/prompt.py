"""The system prompt, and taking the code out of the model's fenced answer.

The prompt is the stage's own (`system_prompt`, terraform/defaults.tfvars.json holds the
default): a template in which `{language}` stands for the language's name and `{tag}` for the
tag of its fenced block, nothing else (a brace elsewhere is kept as it is).
"""

import hashlib
import re

from codegen.generation.languages import Language, fence_tags

_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<tag>[^\s`]*)[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)


LANGUAGE_PLACEHOLDER = "{language}"
TAG_PLACEHOLDER = "{tag}"


def system_prompt(language: Language, template: str) -> str:
    return template.replace(LANGUAGE_PLACEHOLDER, language.title).replace(
        TAG_PLACEHOLDER, language.name
    )


def template_sha256(template: str) -> str:
    """Which prompt made an answer: recorded in its object's metadata."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()


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
