"""Encode AWS event stream messages (`application/vnd.amazon.eventstream`), the framing of
ConverseStream responses; botocore's own decoder reads them on the client side.

A message: total length (4 bytes), headers length (4), CRC32 of those 8 bytes, headers,
payload, CRC32 of everything before it. A header: name length (1), name, value type (1;
7 = string), value length (2), value. All integers big-endian.
"""

import json
import struct
import zlib
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(encoded_name))
        + encoded_name
        + struct.pack(">BH", _STRING, len(encoded_value))
        + encoded_value
    )


def message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One event of a stream (e.g. contentBlockDelta), its payload as JSON."""
    return message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        json.dumps(payload).encode(),
    )


def exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    """An error after the stream began (the HTTP status was already 200); `exception_type`
    is one of the stream's error members, e.g. modelStreamErrorException."""
    return message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps(payload).encode(),
    )
