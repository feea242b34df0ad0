"""docs/stage-settings.md is what deploy/settings_reference.py writes from the stage's
Terraform variables, defaults and stage files: a setting added, removed or changed without
the page fails here."""

import re

from deploy.paths import REPO_ROOT, TERRAFORM_DIR
from deploy.settings_reference import render, variables


def test_the_stage_settings_page_is_written_from_the_settings_themselves():
    page = (REPO_ROOT / "docs" / "stage-settings.md").read_text()
    assert page == render(), (
        "docs/stage-settings.md is stale: run "
        "`.venv/bin/python -m deploy.settings_reference > docs/stage-settings.md`"
    )


def test_every_root_variable_is_read_with_a_description():
    declared = re.findall(
        r'^variable "([a-z0-9_]+)"', (TERRAFORM_DIR / "variables.tf").read_text(), re.M
    )
    read = variables()
    assert [name for name, _, _ in read] == declared
    assert all(description for _, _, description in read)
