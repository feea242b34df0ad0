"""Which installed files go into a layer: what Lambda never uses is left out.

Optionally prunes botocore's (and boto3's) service data to the services the function uses:
botocore ships a model for every AWS service, most of the layer's size.
"""

from collections.abc import Iterable
from pathlib import Path

_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_SERVICE_DATA_ROOTS = ("botocore/data", "boto3/data")


def layer_entries(
    site_packages: Path, prefix: str = "python", keep_services: Iterable[str] | None = None
) -> dict[str, Path]:
    """Map archive names (`python/...`) to installed files, skipping unused ones."""
    kept = None if keep_services is None else set(keep_services)
    entries: dict[str, Path] = {}
    for path in site_packages.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(site_packages)
        if _skipped(relative, kept):
            continue
        entries[f"{prefix}/{relative.as_posix()}"] = path
    return entries


def _skipped(relative: Path, kept_services: set[str] | None) -> bool:
    parts = relative.parts
    if parts[0] == "bin" or any(part == "__pycache__" for part in parts[:-1]):
        return True
    if relative.name.endswith(_SKIPPED_SUFFIXES):
        return True
    if kept_services is None:
        return False
    posix = relative.as_posix()
    for root in _SERVICE_DATA_ROOTS:
        if posix.startswith(root + "/"):
            inner = Path(posix[len(root) + 1 :]).parts
            # Files directly under data/ (endpoints.json, partitions.json, ...) are shared.
            return len(inner) > 1 and inner[0] not in kept_services
    return False


def rewrite_records(site_packages: Path, entries: dict[str, Path], prefix: str = "python") -> None:
    """Make each dist-info RECORD list only files the layer ships.

    pip records files the layer leaves out, such as console scripts in bin/ whose shebang
    holds the (temporary) venv's path: their hashes differ on every build and would make the
    zip irreproducible.
    """
    shipped = {name.removeprefix(prefix + "/") for name in entries}
    for record in site_packages.glob("*.dist-info/RECORD"):
        kept = []
        for line in record.read_text(encoding="utf-8").splitlines():
            path = line.rsplit(",", 2)[0]
            normalised = (Path("/") / path).resolve().as_posix().lstrip("/")
            if path.startswith("../") or normalised not in shipped:
                continue
            kept.append(line)
        record.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def installed_packages(site_packages: Path) -> dict[str, str]:
    """name -> version of every distribution pip installed (from the *.dist-info names)."""
    packages = {}
    for info in site_packages.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        packages[name.lower().replace("_", "-")] = version
    return dict(sorted(packages.items()))
