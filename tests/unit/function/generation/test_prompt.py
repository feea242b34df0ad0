import pytest

from codegen.generation.languages import LANGUAGES, find_language
from codegen.generation.prompt import extract_code, system_prompt
from tests.unit.function.conftest import stage_environment

PY = find_language("python")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```python\nx = 1\n```", "x = 1\n"),
        ("Sure!\n```py\nx = 1\n```\nDone.", "x = 1\n"),
        ("```\nx = 1\n```", "x = 1\n"),
        ("```js\nlet a\n```\n```python\nx = 1\n```", "x = 1\n"),
        ("~~~python\nx = 1\n~~~", "x = 1\n"),
        ("````python\n```inner```\n````", "```inner```\n"),
        ("x = 1", "x = 1\n"),
        ("  \n", ""),
        ("```python\ndef f():\n    pass", "def f():\n    pass\n"),
    ],
)
def test_extract_code(text, expected):
    assert extract_code(text, PY) == expected


def test_system_prompt_names_the_language_and_fence():
    template = stage_environment()["SYSTEM_PROMPT"]
    prompt = system_prompt(find_language("c#"), template)
    assert "C#" in prompt and "```csharp" in prompt and "{" not in prompt


def test_a_template_keeps_every_brace_but_its_two_placeholders():
    prompt = system_prompt(find_language("go"), "Write {language} ({tag}); {x} and {{y}} stay.")
    assert prompt == "Write Go (go); {x} and {{y}} stay."


def test_languages_have_unique_names_aliases_and_extensions():
    names = [alias for lang in LANGUAGES for alias in (lang.name, *lang.aliases)]
    assert len(names) == len(set(names))
    assert len(LANGUAGES) >= 15
    assert all(lang.extension.startswith(".") for lang in LANGUAGES)
