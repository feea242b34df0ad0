"""Reference tables written from the Terraform they describe, so that they cannot drift:

- the stage settings page of the docs (docs/stage-settings.md): each setting's description
  from terraform/variables.tf, its default from terraform/defaults.tfvars.json, and each
  stage's own value from terraform/stages/;
- each module's Inputs and Outputs tables (the end of terraform/modules/<name>/README.md),
  from its variables.tf and outputs.tf, as terraform-docs writes them.

Unit tests hold both to this. To write them again:

    .venv/bin/python -m deploy.settings_reference > docs/stage-settings.md
    .venv/bin/python -m deploy.settings_reference --modules
"""

import json
import re
from pathlib import Path

from deploy.paths import STAGE_VARS_DIR, TERRAFORM_DIR
from deploy.stages import DEFAULTS_FILE, stage_names

_VARIABLE = re.compile(r'^variable "(?P<name>[a-z0-9_]+)" \{\n(?P<body>.*?)^\}', re.M | re.S)
_DESCRIPTION = re.compile(r'^  description = "(?P<text>(?:[^"\\]|\\.)*)"$', re.M)
_TYPE = re.compile(r"^  type\s+= (?P<type>.+?)\n(?=  [a-z]|\n|$)", re.M | re.S)
_DEFAULT = re.compile(r"^  default\s+= (?P<value>.+)$", re.M)
_OUTPUT = re.compile(r'^output "(?P<name>[a-z0-9_]+)" \{\n(?P<body>.*?)^\}', re.M | re.S)
MODULE_TABLES = "## Inputs"  # where a module README's written part begins

HEADER = """# Stage settings

Every setting of a stage, written from where it lives (`deploy/settings_reference.py`; a test
holds this page to it): its meaning from `terraform/variables.tf`, its default from
`terraform/defaults.tfvars.json`, and what each stage's file,
`terraform/stages/<stage>.tfvars.json`, sets over it. Terraform gets both files in that order
and the tooling merges them the same way, so the two never see different values. Terraform
validates each value before anything changes, and says why it refuses one.

"""


def variables(path: Path = TERRAFORM_DIR / "variables.tf") -> list[tuple[str, str, str]]:
    """(name, type, description) of each root variable, in the file's order."""
    found = []
    for match in _VARIABLE.finditer(path.read_text()):
        body = match["body"]
        description = _DESCRIPTION.search(body)
        kind = _TYPE.search(body)
        found.append(
            (
                match["name"],
                _short_type(kind["type"]) if kind else "any",
                json.loads(f'"{description["text"]}"') if description else "",
            )
        )
    return found


def _short_type(kind: str) -> str:
    """A type on one line, an object's attributes by name: map(object({name, timeout_seconds}))."""
    kind = re.sub(r"(\w+) = [\w()]+", r"\1", " ".join(kind.split()))
    return re.sub(r"\{ ([\w ]+) \}", lambda m: "{" + ", ".join(m[1].split()) + "}", kind)


def _value(value: object) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    if len(text) > 60:
        text = text[:57] + "..."
    return f"`{text}`".replace("|", "\\|")


def render() -> str:
    defaults = json.loads(DEFAULTS_FILE.read_text())
    stages = {
        name: json.loads((STAGE_VARS_DIR / f"{name}.tfvars.json").read_text())
        for name in stage_names()
    }
    lines = [HEADER.rstrip("\n"), ""]
    head = " | ".join(["setting", "meaning", "default", *stages])
    lines += [f"| {head} |", "|" + " --- |" * (3 + len(stages))]
    for name, kind, description in variables():
        cells = [
            f"`{name}` ({kind})".replace("|", "\\|"),
            description.replace("|", "\\|"),
            _value(defaults[name]) if name in defaults else "",
            *(_value(values[name]) if name in values else "" for values in stages.values()),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def module_tables(module: Path) -> str:
    """The Inputs and Outputs tables of a module's README, from its variables and outputs."""
    lines = [
        MODULE_TABLES,
        "",
        "| name | description | type | default |",
        "| --- | --- | --- | --- |",
    ]
    text = (module / "variables.tf").read_text()
    for match in _VARIABLE.finditer(text):
        default = _DEFAULT.search(match["body"])
        (name, kind, description) = next(
            v for v in variables(module / "variables.tf") if v[0] == match["name"]
        )
        shown_default = f"`{default['value']}`" if default else "required"
        lines.append(
            f"| `{name}` | {_cell(description)} | `{_cell(kind)}` | {_cell(shown_default)} |"
        )
    lines += ["", "## Outputs", "", "| name | description |", "| --- | --- |"]
    for match in _OUTPUT.finditer((module / "outputs.tf").read_text()):
        description = _DESCRIPTION.search(match["body"])
        text_ = json.loads(f'"{description["text"]}"') if description else ""
        lines.append(f"| `{match['name']}` | {_cell(text_)} |")
    return "\n".join(lines) + "\n"


def module_readme(module: Path) -> str:
    """The module's README with its tables written from its variables and outputs."""
    readme = (module / "README.md").read_text()
    prose = readme.split(MODULE_TABLES, 1)[0]
    return prose + module_tables(module)


def modules() -> list[Path]:
    return sorted(path for path in (TERRAFORM_DIR / "modules").iterdir() if path.is_dir())


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--modules"]:
        for module in modules():
            (module / "README.md").write_text(module_readme(module))
    else:
        print(render(), end="")
