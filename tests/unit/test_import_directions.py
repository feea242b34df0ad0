"""The directions of docs/layout.md, read from the source's import statements: a new import
that points the wrong way fails here, before it turns into a cycle or a function that carries
the tooling."""

import ast
from collections.abc import Iterator
from pathlib import Path

from deploy.paths import REPO_ROOT

PACKAGES = ("deploy", "layer_builder", "local_stage", "tasks")


def modules_of(folder: Path, package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join((package, *parts)), path


def imports_of(path: Path) -> set[str]:
    """The absolute module names `path` imports (a `from a.b import c` counts as a.b and a.b.c:
    c may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def of_package(names: set[str], package: str) -> set[str]:
    return {name for name in names if within(name, package)}


def tooling_imports(package: str, folder: Path | None = None) -> dict[str, set[str]]:
    """Each module of `package` (in `folder`, by default the repository's folder of that name)
    and the tooling's modules it imports."""
    return {
        module: {name for name in imports_of(path) if name.split(".")[0] in PACKAGES}
        for module, path in modules_of(folder or REPO_ROOT / package, package)
    }


def test_the_function_imports_none_of_the_tooling():
    for module, wrong in tooling_imports("codegen", REPO_ROOT / "lambda" / "codegen").items():
        assert not wrong, f"{module} imports the tooling: {sorted(wrong)}"


def test_the_layer_builder_knows_neither_the_deployer_nor_the_local_stage():
    for module, names in tooling_imports("layer_builder").items():
        wrong = of_package(names, "deploy") | of_package(names, "local_stage")
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_deploy_knows_of_the_local_stage_only_its_contract():
    for module, names in tooling_imports("deploy").items():
        wrong = {
            name
            for name in of_package(names, "local_stage")
            if name != "local_stage" and not within(name, "local_stage.contract")
        }
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_the_local_stage_uses_of_deploy_only_its_client_which_imports_no_local_stage():
    """The console's "try it" sends through the tooling's one client (deploy.call); that client,
    and what it imports of the repository in turn, must not lead back into local_stage."""
    for module, names in tooling_imports("local_stage").items():
        wrong = {name for name in of_package(names, "deploy") if not within(name, "deploy.call")}
        assert not wrong, f"{module} imports {sorted(wrong)}"

    deploy = tooling_imports("deploy")
    reached, todo = set(), ["deploy.call"]
    while todo:
        module = todo.pop()
        if module in reached or module not in deploy:
            continue
        reached.add(module)
        assert not of_package(deploy[module], "local_stage"), f"{module} imports local_stage"
        todo.extend(deploy[module])
    assert "deploy.call" in reached
