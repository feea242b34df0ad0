"""Read the function's runtime requirements file and normalise it for hashing."""

from pathlib import Path

from layer_builder.errors import BuildError


def read_requirements(path: Path) -> list[str]:
    """Return the requirement lines of `path`, without comments or blank lines.

    Raises BuildError when the file is missing, unreadable or holds no requirement.
    """
    if not path.is_file():
        raise BuildError(
            f"requirements file not found: {path}. Create it with one pinned requirement per "
            f"line (e.g. boto3==1.44.8)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read requirements file {path}: {exc}") from exc
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    if not lines:
        raise BuildError(
            f"requirements file {path} lists no package: add the function's runtime "
            f"dependencies (at least boto3, pinned with ==)"
        )
    return lines
