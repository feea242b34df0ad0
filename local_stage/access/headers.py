"""HTTP headers as API Gateway and SigV4 both see them."""

from collections.abc import Iterable


def fold_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Names lower-cased; a repeated header becomes its values joined with commas, in order
    (API Gateway's payload 2.0 `headers`, and what SigV4 signs for a repeated header)."""
    folded: dict[str, str] = {}
    for name, value in headers:
        key, value = name.lower(), value.strip()
        folded[key] = f"{folded[key]},{value}" if key in folded else value
    return folded
