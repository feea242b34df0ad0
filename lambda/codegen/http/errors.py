"""An HTTP error the handler turns into a JSON response: status, code, what to fix."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpError(Exception):
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def bad_request(message: str, field_name: str | None = None, **details: Any) -> HttpError:
    extra = {"field": field_name} if field_name else {}
    return HttpError(400, "InvalidRequest", message, {**extra, **details})
