"""The stage settings page of the docs (docs/stage-settings.md), written from where each
setting lives: its description in terraform/variables.tf, its default in
terraform/defaults.tfvars.json, and each stage's own value in terraform/stages/. A unit test
holds the page to this, so a setting added or changed without the page fails.

    .venv/bin/python -m deploy.settings_reference > docs/stage-settings.md
"""

import json
import re
from pathlib import Path

from deploy.paths import STAGE_VARS_DIR, TERRAFORM_DIR
from deploy.stages import DEFAULTS_FILE, stage_names

_VARIABLE = re.compile(r'^variable "(?P<name>[a-z0-9_]+)" \{\n(?P<body>.*?)^\}', re.M | re.S)
_DESCRIPTION = re.compile(r'^  description = "(?P<text>(?:[^"\\]|\\.)*)"$', re.M)
_TYPE = re.compile(r"^  type\s+= (?P<type>.+?)\n(?=  [a-z]|\n|$)", re.M | re.S)

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
                " ".join(kind["type"].split()) if kind else "any",
                json.loads(f'"{description["text"]}"') if description else "",
            )
        )
    return found


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


if __name__ == "__main__":
    print(render(), end="")
