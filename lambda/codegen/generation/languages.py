"""The languages the service writes: file extension, content type, and accepted aliases."""

import re
from dataclasses import dataclass

from codegen.http.errors import bad_request


@dataclass(frozen=True)
class Language:
    name: str
    extension: str
    content_type: str
    aliases: tuple[str, ...] = ()
    display: str = ""

    @property
    def title(self) -> str:
        return self.display or self.name.capitalize()


LANGUAGES = (
    Language("python", ".py", "text/x-python", ("py", "python3", "py3")),
    Language(
        "javascript", ".js", "text/javascript", ("js", "node", "nodejs", "ecmascript"), "JavaScript"
    ),
    Language("typescript", ".ts", "application/typescript", ("ts",), "TypeScript"),
    Language("java", ".java", "text/x-java"),
    Language("go", ".go", "text/x-go", ("golang",), "Go"),
    Language("rust", ".rs", "text/x-rust", ("rs",)),
    Language("c", ".c", "text/x-c", (), "C"),
    Language("cpp", ".cpp", "text/x-c++", ("c++", "cxx", "cplusplus"), "C++"),
    Language("csharp", ".cs", "text/x-csharp", ("c#", "cs", "dotnet"), "C#"),
    Language("ruby", ".rb", "text/x-ruby", ("rb",)),
    Language("php", ".php", "application/x-httpd-php", (), "PHP"),
    Language("kotlin", ".kt", "text/x-kotlin", ("kt", "kts")),
    Language("swift", ".swift", "text/x-swift"),
    Language("scala", ".scala", "text/x-scala"),
    Language("sql", ".sql", "application/sql", (), "SQL"),
    Language("bash", ".sh", "text/x-shellscript", ("sh", "shell", "zsh")),
    Language("powershell", ".ps1", "text/plain", ("ps1", "pwsh"), "PowerShell"),
    Language("r", ".r", "text/x-r", (), "R"),
    Language("dart", ".dart", "text/x-dart"),
    Language("lua", ".lua", "text/x-lua"),
    Language("perl", ".pl", "text/x-perl", ("pl",)),
    Language("haskell", ".hs", "text/x-haskell", ("hs",)),
    Language("html", ".html", "text/html", ("htm",), "HTML"),
    Language("css", ".css", "text/css", (), "CSS"),
    Language("yaml", ".yaml", "application/yaml", ("yml",), "YAML"),
    Language("json", ".json", "application/json", (), "JSON"),
    Language("terraform", ".tf", "text/plain", ("hcl", "tf"), "Terraform (HCL)"),
)

_BY_NAME = {alias: lang for lang in LANGUAGES for alias in (lang.name, *lang.aliases)}
_MAX_SHOWN = 40


def accepted_names() -> list[str]:
    return [lang.name for lang in LANGUAGES]


def find_language(value: str) -> Language:
    """The language for a name or alias, case- and space-insensitive."""
    key = re.sub(r"\s+", "", value).lower()
    language = _BY_NAME.get(key)
    if language is None:
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
        raise bad_request(
            f"unknown language {shown!r} in 'key'; use one of: {', '.join(accepted_names())}",
            "key",
            accepted=accepted_names(),
        )
    return language


def fence_tags(language: Language) -> set[str]:
    """Tags a model may put after ``` for this language."""
    return {language.name, *language.aliases, language.extension.lstrip(".")}
