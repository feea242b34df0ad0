"""The Terraform modules follow the community modules' shape, read as text (no Terraform)."""

from deploy.paths import TERRAFORM_DIR


def test_modules_have_the_standard_files_and_described_variables():
    import re

    for module in sorted((TERRAFORM_DIR / "modules").iterdir()):
        names = {path.name for path in module.iterdir()}
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= names
        for path in (module / "variables.tf", module / "outputs.tf"):
            blocks = re.findall(
                r'^(?:variable|output) "(\w+)" \{(.*?)^\}', path.read_text(), re.S | re.M
            )
            assert blocks, path
            readme = (module / "README.md").read_text()
            for name, body in blocks:
                assert "description" in body, f"{path}: {name} has no description"
                assert f"| `{name}` |" in readme, f"{module.name}/README.md lacks {name}"


def test_each_modules_readme_tables_are_written_from_its_variables_and_outputs():
    """The tables a reader trusts (what to pass, each default) cannot drift from the module."""
    from deploy.settings_reference import module_readme, modules

    for module in modules():
        assert (module / "README.md").read_text() == module_readme(module), (
            f"{module.name}/README.md is stale: run "
            "`.venv/bin/python -m deploy.settings_reference --modules`"
        )
