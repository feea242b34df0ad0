"""Read the list of AWS services the function uses (for pruning botocore's models)."""

import re
from pathlib import Path

from layer_builder.errors import BuildError

_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]*")


def read_services(path: Path) -> list[str]:
    """Service names from `path`, one per line, `#` comments allowed."""
    if not path.is_file():
        raise BuildError(
            f"services file not found: {path}. List the AWS services the function uses, one "
            f"per line (e.g. s3), or build without pruning (--keep-services all)"
        )
    services = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _SERVICE.fullmatch(line):
            raise BuildError(f"{path}: {line!r} is not a service name like s3 or bedrock-runtime")
        services.append(line)
    if not services:
        raise BuildError(f"services file {path} lists no service")
    return services


def parse_services_option(value: str) -> list[str] | None:
    """`--keep-services a,b` -> [a, b]; `all` -> None (keep every model)."""
    if value.strip() == "all":
        return None
    services = [item.strip() for item in value.split(",") if item.strip()]
    bad = [item for item in services if not _SERVICE.fullmatch(item)]
    if bad or not services:
        raise BuildError(
            f"--keep-services {value!r}: give comma-separated service names "
            f"(e.g. s3,bedrock-runtime) or 'all'"
        )
    return services
