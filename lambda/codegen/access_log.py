"""One structured JSON line per request on stdout (CloudWatch keeps it as one event).

The prompt itself is never logged unless LOG_PROMPTS is set: only its length and sha256.
"""

import json
import sys
from typing import Any


def log_request(**fields: Any) -> None:
    record = {"event": "code-generation", **{k: v for k, v in fields.items() if v is not None}}
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
